"""What the notify service knows of the others: members, links, contacts and suggestions.

One projection of the roster, contacts and feedback topics (their store files in the embedded
default), written with its consumed offsets in one transaction. From the rows the scheduler
computes who still owes contacts (:mod:`compliance`, the rule the contacts service's due list
and the reports apply) and whose suggestions wait. Events that call for a message of their own
(a suggestion arrived, escalated, answered, resolved) leave a row in ``n_triggers`` with the id
of the notification they call for; the scheduler issues those not issued yet (the view's
``n_notifications``, in the same database), so a replayed event never tells anyone twice.
The revoked tokens the guard refuses come with the roster's events.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from access.revocations import RevokedTokens
from contracts.contacts import ContactCorrected, ContactMade, ContactRetracted
from contracts.feedback import (
    DepartmentMemberAppointed,
    DepartmentMemberReleased,
    SuggestionAcknowledged,
    SuggestionAnswered,
    SuggestionAssigned,
    SuggestionClosed,
    SuggestionDepartmentOverdue,
    SuggestionEscalated,
    SuggestionRaised,
    SuggestionReceived,
    SuggestionReopened,
    SuggestionResolved,
)
from contracts.roster import (
    MemberAssigned,
    MemberDeparted,
    MemberForgotten,
    MemberMoved,
    MemberRegistered,
    MemberTierChanged,
    MemberUnassigned,
    UnitRegistered,
    UnitRenamed,
)
from escalation import dump_recorded
from eventspine.projection import Delivered, Tx
from notify.domain import notification_id
from notify.view import utc

TABLES = {
    "n_units": "unit_id TEXT PRIMARY KEY, name TEXT NOT NULL",
    "n_members": "member_id TEXT PRIMARY KEY, unit_id TEXT NOT NULL, tier TEXT NOT NULL, "
    "status TEXT NOT NULL",
    "n_links": "link_id TEXT PRIMARY KEY, upper_member_id TEXT NOT NULL, "
    "lower_member_id TEXT NOT NULL, assigned_on TEXT NOT NULL, unassigned_on TEXT",
    "n_contacts": "contact_id TEXT PRIMARY KEY, link_id TEXT NOT NULL, "
    "contacted_on TEXT NOT NULL, retracted INTEGER NOT NULL DEFAULT 0",
    "n_suggestions": "suggestion_id TEXT PRIMARY KEY, raised_by TEXT NOT NULL, "
    "on_behalf_of TEXT, holder_id TEXT, holder_tier TEXT, status TEXT NOT NULL, "
    "level INTEGER NOT NULL, arrived_at TEXT NOT NULL",
    # The rule each holder's clock started under, as its event recorded it (no row: an event
    # recorded before rules were, read by the settings as then).
    "n_suggestion_clocks": "suggestion_id TEXT PRIMARY KEY, deadline TEXT NOT NULL",
    # A department's open step: its recorded deadline, and the stream version it started at.
    "n_department_steps": "suggestion_id TEXT PRIMARY KEY, department TEXT NOT NULL, "
    "deadline TEXT NOT NULL, started TEXT NOT NULL",
    "n_department_members": "department TEXT NOT NULL, member_id TEXT NOT NULL, "
    "PRIMARY KEY (department, member_id)",
    "n_triggers": "notification_id TEXT PRIMARY KEY, member_id TEXT NOT NULL, "
    "kind TEXT NOT NULL, subject TEXT NOT NULL, period TEXT NOT NULL, created_at TEXT NOT NULL",
}
FORGOTTEN = "forgotten"


class NotifyReplica:
    """Rows of the ``<prefix>n_*`` tables from the roster's, contacts' and feedback's events."""

    name = "notify.replica"
    services = ("roster", "contacts", "feedback")

    def __init__(self, prefix: str = "", on_forgotten: Any = None) -> None:
        self.p = prefix
        self.on_forgotten = on_forgotten
        self.revoked_tokens = RevokedTokens(prefix)

    async def setup(self, tx: Tx) -> None:
        """Create the tables."""
        await self.revoked_tokens.setup(tx)
        for table, columns in TABLES.items():
            await tx.execute(f"CREATE TABLE IF NOT EXISTS {self.p}{table} ({columns})")
        await tx.execute(
            f"CREATE INDEX IF NOT EXISTS n_links_upper ON {self.p}n_links (upper_member_id)"
        )
        await tx.execute(
            f"CREATE INDEX IF NOT EXISTS n_contacts_link ON {self.p}n_contacts (link_id)"
        )

    async def reset(self, tx: Tx) -> None:
        """Empty the tables."""
        for table in TABLES:
            await tx.execute(f"DELETE FROM {self.p}{table}")
        await self.revoked_tokens.reset(tx)

    async def _trigger(
        self,
        tx: Tx,
        d: Delivered,
        member: UUID | None,
        kind: str,
        subject: UUID,
        label: str = "v",
    ) -> None:
        # The suggestion's stream version stands for the period: each step tells once.
        if member is None:
            return
        period = f"{label}{d.stream_version}"
        await tx.execute(
            f"INSERT INTO {self.p}n_triggers VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (notification_id) DO NOTHING",
            str(notification_id(member, kind, str(subject), period, None)),
            str(member),
            kind,
            str(subject),
            period,
            utc(d.time),
        )

    async def _suggestion(self, tx: Tx, sid: UUID, **columns: Any) -> None:
        sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, start=2))
        await tx.execute(
            f"UPDATE {self.p}n_suggestions SET {sets} WHERE suggestion_id = $1",
            str(sid),
            *[str(v) if isinstance(v, UUID) else v for v in columns.values()],
        )

    async def _clock(self, tx: Tx, sid: UUID, recorded: Any) -> None:
        await tx.execute(
            f"INSERT INTO {self.p}n_suggestion_clocks VALUES ($1, $2) "
            "ON CONFLICT (suggestion_id) DO UPDATE SET deadline = excluded.deadline",
            str(sid),
            dump_recorded(recorded),
        )

    async def _step_over(self, tx: Tx, sid: UUID) -> None:
        await tx.execute(
            f"DELETE FROM {self.p}n_department_steps WHERE suggestion_id = $1", str(sid)
        )

    async def _told_of_outcome(self, tx: Tx, d: Delivered, sid: UUID, kind: str) -> None:
        """Tell the raiser, and the worker it was raised for (a representative's worker, or
        the roster's worker an intake's phone matched), that it was answered or resolved."""
        row = await tx.fetchrow(
            f"SELECT raised_by, on_behalf_of FROM {self.p}n_suggestions WHERE suggestion_id = $1",
            str(sid),
        )
        if row is None:
            return
        told = [UUID(m) for m in dict.fromkeys([row[0], row[1]]) if m]
        for member in told:
            await self._trigger(tx, d, member, kind, sid)

    async def apply(self, tx: Tx, d: Delivered) -> None:
        """Apply one event; types it does not use are ignored."""
        await self.revoked_tokens.apply(tx, d)
        p = self.p
        match d.event:
            case UnitRegistered() as e:
                await tx.execute(
                    f"INSERT INTO {p}n_units VALUES ($1, $2) ON CONFLICT (unit_id) DO NOTHING",
                    str(e.unit_id),
                    e.name,
                )
            case UnitRenamed() as e:
                await tx.execute(
                    f"UPDATE {p}n_units SET name = $2 WHERE unit_id = $1", str(e.unit_id), e.name
                )
            case MemberRegistered() as e:
                await tx.execute(
                    f"INSERT INTO {p}n_members VALUES ($1, $2, $3, 'active') "
                    "ON CONFLICT (member_id) DO NOTHING",
                    str(e.member_id),
                    str(e.unit_id),
                    e.tier,
                )
            case MemberTierChanged() as e:
                await tx.execute(
                    f"UPDATE {p}n_members SET tier = $2 WHERE member_id = $1",
                    str(e.member_id),
                    e.to_tier,
                )
            case MemberMoved() as e:
                await tx.execute(
                    f"UPDATE {p}n_members SET unit_id = $2 WHERE member_id = $1",
                    str(e.member_id),
                    str(e.to_unit_id),
                )
            case MemberDeparted() as e:
                await tx.execute(
                    f"UPDATE {p}n_members SET status = 'departed' WHERE member_id = $1",
                    str(e.member_id),
                )
            case MemberForgotten() as e:
                await tx.execute(
                    f"UPDATE {p}n_members SET status = $2 WHERE member_id = $1",
                    str(e.member_id),
                    FORGOTTEN,
                )
                if self.on_forgotten is not None:
                    await self.on_forgotten(e.member_id)  # idempotent: a replay is harmless
            case MemberAssigned() as e:
                await tx.execute(
                    f"INSERT INTO {p}n_links VALUES ($1, $2, $3, $4, NULL) "
                    "ON CONFLICT (link_id) DO NOTHING",
                    str(d.id),
                    str(e.upper_member_id),
                    str(e.member_id),
                    e.assigned_on.isoformat(),
                )
            case MemberUnassigned() as e:
                await tx.execute(
                    f"UPDATE {p}n_links SET unassigned_on = $3 WHERE lower_member_id = $1 "
                    "AND upper_member_id = $2 AND unassigned_on IS NULL",
                    str(e.member_id),
                    str(e.upper_member_id),
                    e.unassigned_on.isoformat(),
                )
            case ContactMade() as e:
                await tx.execute(
                    f"INSERT INTO {p}n_contacts VALUES ($1, $2, $3, 0) "
                    "ON CONFLICT (contact_id) DO NOTHING",
                    str(e.contact_id),
                    str(e.link_id),
                    e.contacted_on.isoformat(),
                )
            case ContactCorrected() as e:
                await tx.execute(
                    f"UPDATE {p}n_contacts SET contacted_on = $2 WHERE contact_id = $1",
                    str(e.contact_id),
                    e.contacted_on.isoformat(),
                )
            case ContactRetracted() as e:
                await tx.execute(
                    f"UPDATE {p}n_contacts SET retracted = 1 WHERE contact_id = $1",
                    str(e.contact_id),
                )
            case SuggestionRaised() as e:
                await tx.execute(
                    f"INSERT INTO {p}n_suggestions VALUES ($1, $2, $3, $4, $5, 'held', 0, $6) "
                    "ON CONFLICT (suggestion_id) DO NOTHING",
                    str(e.suggestion_id),
                    str(e.raised_by),
                    str(e.on_behalf_of) if e.on_behalf_of else None,
                    str(e.holder_id) if e.holder_id else None,
                    e.holder_tier,
                    utc(d.time),
                )
                await self._clock(tx, e.suggestion_id, e.deadline)
                await self._trigger(tx, d, e.holder_id, "suggestion_arrived", e.suggestion_id)
            case SuggestionReceived() as e:
                # A worker's suggestion by an intake link: no raiser on the roster, but the
                # worker its phone matched (if any) is told of the outcome like a raiser.
                worker = str(e.worker_id) if e.verification == "matched" and e.worker_id else None
                await tx.execute(
                    f"INSERT INTO {p}n_suggestions VALUES ($1, '', $2, $3, $4, 'held', 0, $5) "
                    "ON CONFLICT (suggestion_id) DO NOTHING",
                    str(e.suggestion_id),
                    worker,
                    str(e.holder_id) if e.holder_id else None,
                    e.holder_tier,
                    utc(d.time),
                )
                await self._clock(tx, e.suggestion_id, e.deadline)
                await self._trigger(tx, d, e.holder_id, "suggestion_arrived", e.suggestion_id)
            case SuggestionAcknowledged() as e:
                await self._suggestion(tx, e.suggestion_id, status="acknowledged")
            case SuggestionEscalated() as e:
                level = e.level + 1
                await self._suggestion(
                    tx,
                    e.suggestion_id,
                    status="held",
                    holder_id=str(e.to_holder_id) if e.to_holder_id else None,
                    holder_tier=e.to_holder_tier,
                    level=level,
                    arrived_at=utc(d.time),
                )
                await self._clock(tx, e.suggestion_id, e.deadline)
                await self._trigger(tx, d, e.to_holder_id, "suggestion_escalated", e.suggestion_id)
            case SuggestionAnswered() as e:
                await self._suggestion(tx, e.suggestion_id, status="answered")
                await self._told_of_outcome(tx, d, e.suggestion_id, "suggestion_answered")
            case SuggestionAssigned() as e:
                await self._suggestion(tx, e.suggestion_id, status="assigned")
                await self._step_over(tx, e.suggestion_id)
                if e.deadline is not None and e.deadline != "unrecorded":
                    await tx.execute(
                        f"INSERT INTO {p}n_department_steps VALUES ($1, $2, $3, $4)",
                        str(e.suggestion_id),
                        e.department,
                        dump_recorded(e.deadline),
                        f"d{d.stream_version}",
                    )
            case SuggestionDepartmentOverdue() as e:
                # Back with its assigner (超期): they are told, under a period of its own.
                await self._suggestion(tx, e.suggestion_id, status="acknowledged")
                await self._clock(tx, e.suggestion_id, None)  # no deadline runs now
                await self._step_over(tx, e.suggestion_id)
                await self._trigger(
                    tx, d, e.assigned_by, "suggestion_escalated", e.suggestion_id, "overdue-v"
                )
            case DepartmentMemberAppointed() as e:
                await tx.execute(
                    f"INSERT INTO {p}n_department_members VALUES ($1, $2) "
                    "ON CONFLICT (department, member_id) DO NOTHING",
                    e.department,
                    str(e.member_id),
                )
            case DepartmentMemberReleased() as e:
                await tx.execute(
                    f"DELETE FROM {p}n_department_members WHERE department = $1 AND member_id = $2",
                    e.department,
                    str(e.member_id),
                )
            case SuggestionResolved() as e:
                await self._suggestion(tx, e.suggestion_id, status="resolved")
                await self._step_over(tx, e.suggestion_id)
                await self._told_of_outcome(tx, d, e.suggestion_id, "suggestion_resolved")
            case SuggestionClosed() as e:
                await self._suggestion(tx, e.suggestion_id, status="closed")
            case SuggestionReopened() as e:
                await self._suggestion(
                    tx,
                    e.suggestion_id,
                    status="held",
                    holder_id=str(e.holder_id) if e.holder_id else None,
                    holder_tier=e.holder_tier,
                    arrived_at=utc(d.time),
                )
                await self._clock(tx, e.suggestion_id, e.deadline)
