"""Queries over the contacts read model and the roster replica: cards, links, due lists."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any
from uuid import UUID

from compliance import ContactRule
from contacts.models import ContactCard, ContactPublic, DueList, LinkPublic, LinkStatus, Standing
from contacts.replica import Link, link_of
from eventspine.projection import Tx

_CONTACT = (
    "SELECT contact_id, link_id, upper_member_id, lower_member_id, contacted_on, method, "
    "initiated_by, topics, note, meeting_id, retracted FROM {p}view_contacts"
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
        self.link_sql = _LINK.format(p=prefix)

    async def contact(self, contact_id: UUID) -> ContactPublic | None:
        """One contact."""
        row = await self.reader.fetchrow(
            f"{self.contact_sql} WHERE contact_id = $1", str(contact_id)
        )
        return None if row is None else _contact(row)

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
        return Standing(
            period=period.label,
            required=standing.required,
            counted=standing.counted,
            status=standing.status,
            next_due=standing.next_due,
        )

    async def card(self, link_id: UUID, today: date) -> ContactCard | None:
        """The contact card of one link."""
        row = await self.reader.fetchrow(f"{self.link_sql} WHERE link_id = $1", str(link_id))
        if row is None:
            return None
        link = link_of(row)
        contacts = await self._contacts(link.link_id)
        per_year = Counter(str(c.contacted_on.year) for c in contacts)
        return ContactCard(
            link=_link(link),
            contacts=contacts,
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
