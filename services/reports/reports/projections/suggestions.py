"""The suggestion projection: where every suggestion is, and who did what with it.

Fed by the feedback topic. The escalation queue and the performance records are questions
over these rows; the deadlines come from the shared escalation policy (:mod:`escalation`,
``SANLIAN_FEEDBACK_DEADLINES``), so the queue shows exactly the deadlines that escalate.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from contracts.feedback import (
    DepartmentDeadline,
    SuggestionAcknowledged,
    SuggestionAnswered,
    SuggestionAssigned,
    SuggestionClosed,
    SuggestionDepartmentOverdue,
    SuggestionEscalated,
    SuggestionRaised,
    SuggestionRated,
    SuggestionReceived,
    SuggestionReopened,
    SuggestionResolved,
    SuggestionSetAside,
    SuggestionTagged,
)
from escalation import Recorded, dump_recorded
from eventspine.envelope import format_time
from eventspine.projection import Delivered, Tx, as_text
from reports import tag_rows

TABLES = {
    "r_suggestions": "suggestion_id TEXT PRIMARY KEY, raised_by TEXT NOT NULL, "
    "on_behalf_of TEXT, category TEXT NOT NULL, status TEXT NOT NULL, holder_id TEXT, "
    "holder_tier TEXT, level INTEGER NOT NULL, escalations INTEGER NOT NULL, department TEXT, "
    "raised_at TEXT NOT NULL, arrived_at TEXT NOT NULL, first_answer_at TEXT, resolved_at TEXT, "
    "closed_at TEXT",
    "r_feedback_acts": "event_id TEXT PRIMARY KEY, suggestion_id TEXT NOT NULL, "
    "member_id TEXT NOT NULL, act TEXT NOT NULL, at TEXT NOT NULL, waited_seconds REAL",
    # Everyone who held a suggestion (or acted on it at the top of the chain): their 履职
    # shows how satisfied its raiser was.
    "r_suggestion_holders": "suggestion_id TEXT NOT NULL, member_id TEXT NOT NULL, "
    "PRIMARY KEY (suggestion_id, member_id)",
    "r_suggestion_ratings": "event_id TEXT PRIMARY KEY, suggestion_id TEXT NOT NULL, "
    "rating TEXT NOT NULL, rated_at TEXT NOT NULL",
    # The rule the current holder's clock started under, as its event recorded it (no row:
    # recorded before rules were, read by the settings as then).
    "r_suggestion_clocks": "suggestion_id TEXT PRIMARY KEY, deadline TEXT NOT NULL",
    # The department's step of a suggestion assigned at the top: when its outcome is due, and
    # whether that passed (超期) and sent it back to whoever assigned it.
    "r_department_steps": "suggestion_id TEXT PRIMARY KEY, due_by TEXT NOT NULL, "
    "overdue INTEGER NOT NULL",
    # The enterprise union of the intake link a worker's suggestion arrived by.
    "r_suggestion_units": "suggestion_id TEXT PRIMARY KEY, unit_id TEXT NOT NULL",
    # The tags each suggestion carries now (themes by tag).
    tag_rows.TABLE: tag_rows.COLUMNS,
}
NO_MEMBER = "00000000-0000-0000-0000-000000000000"
"""``raised_by`` of a worker's suggestion by an intake link (no member raised it)."""


class SuggestionProjection:
    """Rows behind the escalation queue and the performance records (``<prefix>r_*``)."""

    name = "reports.suggestions"
    services = ("feedback",)

    def __init__(self, prefix: str = "") -> None:
        self.p = prefix

    async def setup(self, tx: Tx) -> None:
        """Create the tables."""
        for table, columns in TABLES.items():
            await tx.execute(f"CREATE TABLE IF NOT EXISTS {self.p}{table} ({columns})")

    async def reset(self, tx: Tx) -> None:
        """Empty the tables."""
        for table in TABLES:
            await tx.execute(f"DELETE FROM {self.p}{table}")

    async def _act(
        self,
        tx: Tx,
        delivered: Delivered,
        suggestion_id: str,
        member: UUID | None,
        act: str,
        waited: bool = False,
    ) -> None:
        if member is None:
            return
        seconds = None
        if waited:  # how long the suggestion had waited for this member when they acted
            arrived = await tx.fetchval(
                f"SELECT arrived_at FROM {self.p}r_suggestions WHERE suggestion_id = $1",
                suggestion_id,
            )
            if arrived:
                seconds = (delivered.time - datetime.fromisoformat(str(arrived))).total_seconds()
        await tx.execute(
            f"INSERT INTO {self.p}r_feedback_acts VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (event_id) DO NOTHING",
            str(delivered.id),
            suggestion_id,
            str(member),
            act,
            format_time(delivered.time),
            seconds,
        )

    async def _set(self, tx: Tx, suggestion_id: str, assignments: str, *values: object) -> None:
        await tx.execute(
            f"UPDATE {self.p}r_suggestions SET {assignments} WHERE suggestion_id = $1",
            suggestion_id,
            *values,
        )

    async def _held(self, tx: Tx, suggestion_id: str, member: UUID | None) -> None:
        if member is not None:
            await tx.execute(
                f"INSERT INTO {self.p}r_suggestion_holders VALUES ($1, $2) "
                "ON CONFLICT (suggestion_id, member_id) DO NOTHING",
                suggestion_id,
                str(member),
            )

    async def _clock(self, tx: Tx, suggestion_id: str, recorded: Recorded) -> None:
        await tx.execute(
            f"INSERT INTO {self.p}r_suggestion_clocks VALUES ($1, $2) "
            "ON CONFLICT (suggestion_id) DO UPDATE SET deadline = excluded.deadline",
            suggestion_id,
            dump_recorded(recorded),
        )

    async def _department_step(
        self, tx: Tx, suggestion_id: str, due_by: datetime | None, overdue: bool = False
    ) -> None:
        if due_by is None:
            await tx.execute(
                f"DELETE FROM {self.p}r_department_steps WHERE suggestion_id = $1", suggestion_id
            )
            return
        await tx.execute(
            f"INSERT INTO {self.p}r_department_steps VALUES ($1, $2, $3) "
            "ON CONFLICT (suggestion_id) DO UPDATE SET due_by = excluded.due_by, "
            "overdue = excluded.overdue",
            suggestion_id,
            format_time(due_by),
            int(overdue),
        )

    async def _voice(self, tx: Tx, delivered: Delivered) -> bool:
        """The steps of the workers' voice (and who held what); True if the event was one
        of the new types, fully applied here."""
        at = format_time(delivered.time)
        event = delivered.event
        match event:
            case SuggestionRaised() | SuggestionReopened():
                await self._held(tx, str(event.suggestion_id), event.holder_id)
                await self._clock(tx, str(event.suggestion_id), event.deadline)
            case SuggestionEscalated():
                await self._held(tx, str(event.suggestion_id), event.to_holder_id)
                await self._clock(tx, str(event.suggestion_id), event.deadline)
            case SuggestionDepartmentOverdue():
                # Back with whoever assigned it (超期); no deadline runs until they act.
                sid = str(event.suggestion_id)
                await self._set(tx, sid, "status = 'acknowledged'")
                await self._clock(tx, sid, None)
                await self._department_step(tx, sid, event.due_by, overdue=True)
                return True
            case SuggestionAcknowledged():
                await self._held(tx, str(event.suggestion_id), event.acknowledged_by)
            case SuggestionAnswered():
                await self._held(tx, str(event.suggestion_id), event.answered_by)
            case SuggestionReceived() as e:
                sid = str(e.suggestion_id)
                await tx.execute(
                    f"INSERT INTO {self.p}r_suggestions VALUES ($1, $2, $3, $4, 'held', $5, $6, "
                    "0, 0, NULL, $7, $7, NULL, NULL, NULL) ON CONFLICT (suggestion_id) DO NOTHING",
                    sid,
                    NO_MEMBER,
                    as_text(e.worker_id),
                    e.category,
                    as_text(e.holder_id),
                    e.holder_tier,
                    at,
                )
                await tx.execute(
                    f"INSERT INTO {self.p}r_suggestion_units VALUES ($1, $2) "
                    "ON CONFLICT (suggestion_id) DO NOTHING",
                    sid,
                    str(e.unit_id),
                )
                await self._held(tx, sid, e.holder_id)
                await self._clock(tx, sid, e.deadline)
                return True
            case SuggestionRated() as e:
                sid = str(e.suggestion_id)
                await tx.execute(
                    f"INSERT INTO {self.p}r_suggestion_ratings VALUES ($1, $2, $3, $4) "
                    "ON CONFLICT (event_id) DO NOTHING",
                    str(delivered.id),
                    sid,
                    e.rating,
                    at,
                )
                if e.reopened:
                    await self._set(tx, sid, "status = 'held', arrived_at = $2", at)
                    await self._clock(tx, sid, e.deadline)
                else:
                    await self._set(tx, sid, "status = 'closed', closed_at = $2", at)
                return True
            case SuggestionSetAside() as e:
                await self._set(tx, str(e.suggestion_id), "status = 'set_aside'")
                return True
            case SuggestionTagged() as e:
                await tag_rows.apply(tx, self.p, e)
                return True
        return False

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        """Apply one feedback event."""
        at = format_time(delivered.time)
        if await self._voice(tx, delivered):
            return
        match delivered.event:
            case SuggestionRaised() as e:
                sid = str(e.suggestion_id)
                await tx.execute(
                    f"INSERT INTO {self.p}r_suggestions VALUES ($1, $2, $3, $4, 'held', $5, $6, "
                    "0, 0, NULL, $7, $7, NULL, NULL, NULL) ON CONFLICT (suggestion_id) DO NOTHING",
                    sid,
                    str(e.raised_by),
                    as_text(e.on_behalf_of),
                    e.category,
                    as_text(e.holder_id),
                    e.holder_tier,
                    at,
                )
                await self._act(tx, delivered, sid, e.raised_by, "raised")
            case SuggestionAcknowledged() as e:
                sid = str(e.suggestion_id)
                await self._act(tx, delivered, sid, e.acknowledged_by, "acknowledged", True)
                await self._set(tx, sid, "status = 'acknowledged'")
            case SuggestionEscalated() as e:
                sid = str(e.suggestion_id)
                if e.reason == "by_hand":
                    await self._act(tx, delivered, sid, e.escalated_by, "relayed", True)
                await self._set(
                    tx,
                    sid,
                    "status = 'held', holder_id = $2, holder_tier = $3, level = $4, "
                    "escalations = escalations + 1, arrived_at = $5",
                    as_text(e.to_holder_id),
                    e.to_holder_tier,
                    e.level + 1,
                    at,
                )
            case SuggestionAnswered() as e:
                await self._department_step(tx, str(e.suggestion_id), None)
                sid = str(e.suggestion_id)
                await self._act(tx, delivered, sid, e.answered_by, "answered", True)
                await self._set(
                    tx,
                    sid,
                    "status = 'answered', first_answer_at = coalesce(first_answer_at, $2)",
                    at,
                )
            case SuggestionAssigned() as e:
                await self._set(
                    tx,
                    str(e.suggestion_id),
                    "status = 'assigned', department = $2, arrived_at = $3",
                    e.department,
                    at,
                )
                # A step assigned before its deadline was recorded shows none, as before.
                due = e.deadline.due_by if isinstance(e.deadline, DepartmentDeadline) else None
                await self._department_step(tx, str(e.suggestion_id), due)
            case SuggestionResolved() as e:
                await self._department_step(tx, str(e.suggestion_id), None)
                await self._set(
                    tx, str(e.suggestion_id), "status = 'resolved', resolved_at = $2", at
                )
            case SuggestionClosed() as e:
                await self._department_step(tx, str(e.suggestion_id), None)
                await self._set(tx, str(e.suggestion_id), "status = 'closed', closed_at = $2", at)
            case SuggestionReopened() as e:
                await self._set(
                    tx,
                    str(e.suggestion_id),
                    "status = 'held', holder_id = $2, holder_tier = $3, arrived_at = $4",
                    as_text(e.holder_id),
                    e.holder_tier,
                    at,
                )
