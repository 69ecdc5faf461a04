"""Questions the scheduler, the sender and the routes ask of the notify service's tables."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any
from uuid import UUID

from compliance import ContactRule
from compliance.rule import Period
from eventspine.projection import Tx
from notify.domain import Owing
from notify.view import utc


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


class NotifyQueries:
    """Reads of the replica (``n_members``, ``n_links``, ...) and of the view."""

    def __init__(self, replica: Tx, view: Tx, rule: ContactRule, prefix: str = "") -> None:
        self.replica = replica
        self.view = view
        self.rule = rule
        self.p = prefix

    async def owing(
        self, period: Period, today: date, upper: UUID | None = None
    ) -> dict[UUID, list[Owing]]:
        """Per active upper member (or only ``upper``), the links still owing contacts in
        ``period`` as of ``today``, soonest due first (the contact rule of :mod:`compliance`)."""
        p = self.p
        only = "AND l.upper_member_id = $2 " if upper else ""
        links = await self.replica.fetch(
            f"SELECT l.link_id, l.upper_member_id, l.lower_member_id, l.assigned_on, "
            f"l.unassigned_on FROM {p}n_links l JOIN {p}n_members u "
            "ON u.member_id = l.upper_member_id JOIN "
            f"{p}n_members w ON w.member_id = l.lower_member_id "
            "WHERE u.status = 'active' AND w.status = 'active' AND l.unassigned_on IS NULL "
            "AND l.assigned_on <= $1 " + only,
            today.isoformat(),
            *([str(upper)] if upper else []),
        )
        contacts: dict[str, list[date]] = defaultdict(list)
        for row in await self.replica.fetch(
            f"SELECT link_id, contacted_on FROM {p}n_contacts WHERE retracted = 0 "
            "AND contacted_on >= $1 AND contacted_on <= $2",
            period.start.isoformat(),
            today.isoformat(),
        ):
            contacts[row[0]].append(date.fromisoformat(row[1]))
        found: dict[UUID, list[Owing]] = defaultdict(list)
        for row in links:
            standing = self.rule.standing(
                period, date.fromisoformat(row[3]), _day(row[4]), contacts.get(row[0], [])
            )
            if standing.next_due is None:
                continue
            owed = standing.required - standing.counted
            found[UUID(row[1])].append(Owing(UUID(row[0]), UUID(row[2]), owed, standing.next_due))
        for items in found.values():
            items.sort(key=lambda item: (item.next_due, str(item.lower_member_id)))
        return dict(found)

    async def issued(self, notification_id: UUID) -> bool:
        """Whether the notification was issued (by any instance)."""
        found = await self.view.fetchval(
            f"SELECT 1 FROM {self.p}n_notifications WHERE notification_id = $1",
            str(notification_id),
        )
        return found is not None

    async def issued_in(self, period: str) -> set[UUID]:
        """The ids of the notifications issued for ``period`` (one query per tick, rather than
        one per member and link)."""
        rows = await self.view.fetch(
            f"SELECT notification_id FROM {self.p}n_notifications WHERE period = $1", period
        )
        return {UUID(row[0]) for row in rows}

    async def triggers(self, limit: int = 500) -> list[Any]:
        """Events waiting to become notifications, not issued yet: (member_id, kind, subject,
        period, the suggestion's raiser: '' when a worker raised it by an intake link)."""
        p = self.p
        return await self.replica.fetch(
            f"SELECT t.member_id, t.kind, t.subject, t.period, coalesce(s.raised_by, '') "
            f"FROM {p}n_triggers t "
            f"JOIN {p}n_members m ON m.member_id = t.member_id AND m.status = 'active' "
            f"LEFT JOIN {p}n_suggestions s ON s.suggestion_id = t.subject "
            f"WHERE NOT EXISTS (SELECT 1 FROM {p}n_notifications n "
            "WHERE n.notification_id = t.notification_id) "
            "ORDER BY t.created_at, t.notification_id LIMIT $1",
            limit,
        )

    async def waiting_suggestions(self, holder: UUID | None = None) -> list[Any]:
        """Suggestions a holder (or ``holder``) must act on: (id, holder, tier, status,
        arrived_at, level, the recorded deadline's text or None)."""
        only = "AND s.holder_id = $1" if holder else ""
        return await self.replica.fetch(
            f"SELECT s.suggestion_id, s.holder_id, s.holder_tier, s.status, s.arrived_at, "
            f"s.level, c.deadline FROM {self.p}n_suggestions s "
            f"LEFT JOIN {self.p}n_suggestion_clocks c ON c.suggestion_id = s.suggestion_id "
            f"WHERE s.status IN ('held', 'acknowledged') AND s.holder_id IS NOT NULL {only}",
            *([str(holder)] if holder else []),
        )

    async def department_steps(self, member: UUID | None = None) -> list[Any]:
        """Open department steps with a recorded deadline, per member acting for the
        department (or only ``member``'s): (id, member, deadline's text, started)."""
        only = "AND m.member_id = $1" if member else ""
        return await self.replica.fetch(
            f"SELECT s.suggestion_id, m.member_id, s.deadline, s.started "
            f"FROM {self.p}n_department_steps s JOIN {self.p}n_department_members m "
            f"ON m.department = s.department WHERE 1 = 1 {only}",
            *([str(member)] if member else []),
        )

    async def member_unit(self, member_id: UUID) -> tuple[str, str] | None:
        """A member's (unit id, tier), or None."""
        row = await self.replica.fetchrow(
            f"SELECT unit_id, tier FROM {self.p}n_members WHERE member_id = $1", str(member_id)
        )
        return None if row is None else (row[0], row[1])

    async def preferences(self, member_id: UUID) -> tuple[str | None, bool]:
        """A member's sealed email (or None) and whether they take digests."""
        row = await self.view.fetchrow(
            f"SELECT email, digests FROM {self.p}n_preferences WHERE member_id = $1",
            str(member_id),
        )
        return (None, True) if row is None else (row[0], bool(row[1]))

    async def monthly_only(self) -> set[UUID]:
        """The members who take the monthly digests only."""
        rows = await self.view.fetch(
            f"SELECT member_id FROM {self.p}n_preferences WHERE frequency = 'monthly'"
        )
        return {UUID(row[0]) for row in rows}

    async def due_deliveries(self, now: datetime, channel: str, limit: int = 100) -> list[Any]:
        """Pending deliveries on ``channel`` whose next attempt may start at ``now``:
        (notification_id, member_id, attempts)."""
        return await self.view.fetch(
            f"SELECT notification_id, member_id, attempts FROM {self.p}n_deliveries "
            "WHERE status = 'pending' AND channel = $1 AND next_attempt_at <= $2 "
            "ORDER BY next_attempt_at, notification_id LIMIT $3",
            channel,
            utc(now),
            limit,
        )

    async def notification(self, notification_id: UUID) -> Any:
        """One notification's row (member_id, kind, subject, period, due_on, body, issued_at,
        read_at), or None."""
        return await self.view.fetchrow(
            f"SELECT notification_id, member_id, kind, subject, period, due_on, body, "
            f"issued_at, read_at FROM {self.p}n_notifications WHERE notification_id = $1",
            str(notification_id),
        )

    async def of_member(self, member_id: UUID, limit: int = 100) -> list[Any]:
        """A member's notifications, newest first."""
        return await self.view.fetch(
            f"SELECT notification_id, member_id, kind, subject, period, due_on, body, "
            f"issued_at, read_at FROM {self.p}n_notifications WHERE member_id = $1 "
            "ORDER BY issued_at DESC, notification_id LIMIT $2",
            str(member_id),
            limit,
        )

    async def unread(self, member_id: UUID) -> int:
        """How many of a member's notifications are unread (the 待办 count)."""
        count = await self.view.fetchval(
            f"SELECT count(*) FROM {self.p}n_notifications WHERE member_id = $1 "
            "AND read_at IS NULL",
            str(member_id),
        )
        return int(count or 0)

    async def deliveries(self, status: str | None = None, limit: int = 200) -> list[Any]:
        """The outbox for staff: (notification_id, channel, member_id, status, attempts,
        reason, delivered_at)."""
        columns = "notification_id, channel, member_id, status, attempts, reason, delivered_at"
        if status is None:
            return await self.view.fetch(
                f"SELECT {columns} FROM {self.p}n_deliveries "
                "ORDER BY notification_id, channel LIMIT $1",
                limit,
            )
        return await self.view.fetch(
            f"SELECT {columns} FROM {self.p}n_deliveries WHERE status = $2 "
            "ORDER BY notification_id, channel LIMIT $1",
            limit,
            status,
        )

    async def webhook(self, unit_id: UUID) -> tuple[str, str] | None:
        """A unit's group robot: (format, sealed address), or None."""
        row = await self.view.fetchrow(
            f"SELECT format, address FROM {self.p}n_webhooks WHERE unit_id = $1", str(unit_id)
        )
        return None if row is None else (row[0], row[1])

    async def webhook_units(self) -> list[tuple[UUID, str]]:
        """The units with a group robot, and their names."""
        rows = await self.replica.fetch(
            f"SELECT w.unit_id, coalesce(u.name, '') FROM {self.p}n_webhooks w "
            f"LEFT JOIN {self.p}n_units u ON u.unit_id = w.unit_id ORDER BY w.unit_id"
        )
        return [(UUID(r[0]), r[1]) for r in rows]

    async def staff_units(self) -> dict[UUID, list[UUID]]:
        """Per unit, the staff accounts that take its monthly digest."""
        rows = await self.view.fetch(
            f"SELECT unit_id, account_id FROM {self.p}n_staff_units ORDER BY unit_id, account_id"
        )
        found: dict[UUID, list[UUID]] = {}
        for row in rows:
            found.setdefault(UUID(row[0]), []).append(UUID(row[1]))
        return found

    async def followed(self, account_id: UUID) -> list[UUID]:
        """The units whose monthly digest a staff account takes."""
        rows = await self.view.fetch(
            f"SELECT unit_id FROM {self.p}n_staff_units WHERE account_id = $1 ORDER BY unit_id",
            str(account_id),
        )
        return [UUID(row[0]) for row in rows]

    async def unit_name(self, unit_id: UUID) -> str | None:
        """A unit's public name."""
        found = await self.replica.fetchval(
            f"SELECT name FROM {self.p}n_units WHERE unit_id = $1", str(unit_id)
        )
        return str(found) if found is not None else None

    async def units_of(self, members: list[UUID]) -> dict[UUID, tuple[UUID, str]]:
        """Each member's (unit, tier)."""
        found: dict[UUID, tuple[UUID, str]] = {}
        for member_id in members:
            row = await self.member_unit(member_id)
            if row is not None:
                found[member_id] = (UUID(row[0]), row[1])
        return found

    async def feed_member(self, token_digest: str) -> UUID | None:
        """The member of a live calendar feed, by its token's digest."""
        found = await self.view.fetchval(
            f"SELECT member_id FROM {self.p}n_feeds WHERE token_digest = $1 AND revoked = 0",
            token_digest,
        )
        return UUID(found) if found else None

    async def feeds(self, member_id: UUID) -> list[UUID]:
        """A member's live calendar feeds."""
        rows = await self.view.fetch(
            f"SELECT feed_id FROM {self.p}n_feeds WHERE member_id = $1 AND revoked = 0",
            str(member_id),
        )
        return [UUID(row[0]) for row in rows]
