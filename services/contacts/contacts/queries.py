"""Queries over the contacts read model and the roster replica: cards, links, due lists."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any
from uuid import UUID

from compliance import ContactRule
from contacts.models import (
    ContactCard,
    ContactCorrection,
    ContactPublic,
    ContactRetraction,
    CorrectedField,
    DueList,
    LinkPublic,
    LinkStatus,
    Standing,
)
from contacts.replica import Link, link_of
from eventspine.projection import Tx

_CONTACT = (
    "SELECT contact_id, link_id, upper_member_id, lower_member_id, contacted_on, method, "
    "initiated_by, topics, note, meeting_id, retracted FROM {p}view_contacts"
)
_HISTORY = (
    "SELECT contact_id, kind, recorded_at, contacted_on, method, note_changed, reason "
    "FROM {p}view_contact_history"
)
_LINK = (
    "SELECT link_id, upper_member_id, lower_member_id, assigned_on, unassigned_on "
    "FROM {p}replica_links"
)


def _contact(row: Any) -> ContactPublic:
    return ContactPublic(
        contact_id=row[0],
        link_id=row[1],
        upper_member_id=row[2],
        lower_member_id=row[3],
        contacted_on=row[4],
        method=row[5],
        initiated_by=row[6],
        topics=json.loads(row[7]),
        note=row[8],
        meeting_id=row[9],
        retracted=bool(row[10]),
    )


def fold_history(rows: list[Any]) -> tuple[list[ContactCorrection], ContactRetraction | None]:
    """One contact's corrections and retraction from its history rows (kind, recorded at,
    date, method, note changed, reason), oldest first: each correction's values before it are
    those of the row before."""
    corrections: list[ContactCorrection] = []
    retraction = None
    before: tuple[date, str] | None = None
    for kind, at, on, method, note_changed, reason in rows:
        if kind == "retracted":
            retraction = ContactRetraction(retracted_at=at, reason=reason)
            continue
        values = (date.fromisoformat(str(on)), str(method))
        if kind == "corrected" and before is not None:
            note = None if note_changed is None else bool(note_changed)
            changed: list[CorrectedField] = []
            if values[0] != before[0]:
                changed.append("contacted_on")
            if values[1] != before[1]:
                changed.append("method")
            if note:
                changed.append("note")
            corrections.append(
                ContactCorrection.model_validate(
                    {
                        "corrected_at": at,
                        "reason": reason,
                        "changed": changed,
                        "contacted_on_from": before[0],
                        "contacted_on_to": values[0],
                        "method_from": before[1],
                        "method_to": values[1],
                        "note_changed": note,
                    }
                )
            )
        before = values
    return corrections, retraction


def _with_history(contact: ContactPublic, rows: list[Any]) -> ContactPublic:
    corrections, retraction = fold_history(rows)
    return contact.model_copy(update={"corrections": corrections, "retraction": retraction})


def _link(link: Link) -> LinkPublic:
    return LinkPublic(
        link_id=link.link_id,
        upper_member_id=link.upper_member_id,
        lower_member_id=link.lower_member_id,
        assigned_on=link.assigned_on,
        unassigned_on=link.unassigned_on,
    )


class ContactsQueries:
    """Read-only questions; the contact rule is :class:`compliance.ContactRule`."""

    def __init__(self, reader: Tx, rule: ContactRule, prefix: str = "") -> None:
        self.reader = reader
        self.rule = rule
        self.contact_sql = _CONTACT.format(p=prefix)
        self.history_sql = _HISTORY.format(p=prefix)
        self.link_sql = _LINK.format(p=prefix)
        self.p = prefix

    async def contact(self, contact_id: UUID) -> ContactPublic | None:
        """One contact, with its corrections and retraction."""
        row = await self.reader.fetchrow(
            f"{self.contact_sql} WHERE contact_id = $1", str(contact_id)
        )
        if row is None:
            return None
        history = await self.reader.fetch(
            f"{self.history_sql} WHERE contact_id = $1 ORDER BY position", str(contact_id)
        )
        return _with_history(_contact(row), [tuple(h)[1:] for h in history])

    async def _card_contacts(self, link_id: UUID) -> list[ContactPublic]:
        """Every contact of a link, retracted ones included, each with its history."""
        rows = await self.reader.fetch(
            f"{self.contact_sql} WHERE link_id = $1 ORDER BY contacted_on, contact_id",
            str(link_id),
        )
        history: dict[str, list[Any]] = {}
        for h in await self.reader.fetch(
            f"{self.history_sql} WHERE contact_id IN (SELECT contact_id FROM "
            f"{self.p}view_contacts WHERE link_id = $1) ORDER BY position",
            str(link_id),
        ):
            history.setdefault(str(h[0]), []).append(tuple(h)[1:])
        return [_with_history(_contact(r), history.get(str(r[0]), [])) for r in rows]

    async def _contacts(self, link_id: UUID) -> list[ContactPublic]:
        rows = await self.reader.fetch(
            f"{self.contact_sql} WHERE link_id = $1 AND retracted = 0 ORDER BY contacted_on",
            str(link_id),
        )
        return [_contact(row) for row in rows]

    def _standing(self, link: Link, contacts: list[ContactPublic], today: date) -> Standing:
        period = self.rule.period_of(today)
        standing = self.rule.standing(
            period, link.assigned_on, link.unassigned_on, [c.contacted_on for c in contacts]
        )
        window = self.rule.active_window(period, link.assigned_on, link.unassigned_on)
        return Standing(
            period=period.label,
            required=standing.required,
            counted=standing.counted,
            status=standing.status,
            next_due=standing.next_due,
            active_from=window[0] if window else None,
            active_until=window[1] if window else None,
            whole_period=window == (period.start, period.end),
        )

    async def card(self, link_id: UUID, today: date) -> ContactCard | None:
        """The contact card of one link."""
        row = await self.reader.fetchrow(f"{self.link_sql} WHERE link_id = $1", str(link_id))
        if row is None:
            return None
        link = link_of(row)
        every = await self._card_contacts(link.link_id)
        contacts = [c for c in every if not c.retracted]
        per_year = Counter(str(c.contacted_on.year) for c in contacts)
        return ContactCard(
            link=_link(link),
            contacts=every,
            counts_per_year=dict(sorted(per_year.items())),
            last_contact_on=contacts[-1].contacted_on if contacts else None,
            standing=self._standing(link, contacts, today),
        )

    async def links_of(self, member_id: UUID, today: date) -> list[LinkStatus]:
        """The member's links as the upper member that are active today, with their standing."""
        rows = await self.reader.fetch(
            f"{self.link_sql} WHERE upper_member_id = $1 AND assigned_on <= $2 "
            "AND (unassigned_on IS NULL OR unassigned_on > $2) ORDER BY assigned_on",
            str(member_id),
            today.isoformat(),
        )
        result = []
        for row in rows:
            link = link_of(row)
            contacts = await self._contacts(link.link_id)
            result.append(
                LinkStatus(
                    link=_link(link),
                    last_contact_on=contacts[-1].contacted_on if contacts else None,
                    standing=self._standing(link, contacts, today),
                )
            )
        return result

    async def due(self, member_id: UUID, today: date) -> DueList:
        """The member's links that still owe contacts this period, by due date."""
        owing = [s for s in await self.links_of(member_id, today) if s.standing.next_due]
        # Soonest due first; among equals, the link owing more contacts, then the longest silent.
        owing.sort(
            key=lambda s: (
                s.standing.next_due or today,
                s.standing.counted - s.standing.required,
                s.last_contact_on or date.min,
                str(s.link.link_id),
            )
        )
        return DueList(
            member_id=member_id,
            period=self.rule.period_of(today).label,
            data=owing,
            count=len(owing),
        )
