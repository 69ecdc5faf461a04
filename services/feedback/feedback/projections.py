"""The feedback read model: suggestions with their timeline, holders' inboxes, due times.

Built from the feedback service's own events (``PostgresFollower`` in the full topology, the
in-process bus in the embedded default). Texts are unsealed here for the service's queries;
once a suggestion's key is destroyed they read as null. ``due_at`` is when the current
holder's deadline passes: the scheduler's index of what may be overdue (the decision itself
is taken again on the suggestion's stream).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from escalation import DeadlinePolicy, Recorded, dump_recorded, load_recorded
from eventspine.crypto import PersonalDataVault
from eventspine.envelope import format_time
from eventspine.events import DomainEvent
from eventspine.projection import Delivered, Tx, as_text
from feedback.events import (
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
    SuggestionTakenUp,
)

NO_MEMBER = "00000000-0000-0000-0000-000000000000"
"""``raised_by`` of a suggestion a worker raised by an intake link (the column predates them
and is NOT NULL); the queries answer null for it."""


@dataclass(frozen=True)
class Entry:
    """What one event adds to a suggestion's timeline (besides its type, time and text).

    ``sealed`` is the event's sealed text and ``field`` its name inside the sealed data;
    ``level`` None: the level the suggestion is at.
    """

    suggestion_id: UUID
    actor: UUID | None = None
    holder_id: UUID | None = None
    level: int | None = None
    reason: str | None = None
    department: str | None = None
    sealed: str | None = None
    field: str = ""


def entry(event: DomainEvent) -> Entry | None:
    """The timeline entry of a feedback event (None for other events)."""
    match event:
        case SuggestionRaised():
            return Entry(
                event.suggestion_id,
                event.raised_by,
                event.holder_id,
                sealed=event.text,
                field="text",
            )
        case SuggestionAcknowledged():
            return Entry(event.suggestion_id, event.acknowledged_by, level=event.level)
        case SuggestionEscalated():
            # ``level`` is the level it left; the timeline shows the one it reached.
            return Entry(
                event.suggestion_id,
                event.escalated_by,
                event.to_holder_id,
                event.level + 1,
                reason=event.reason,
                sealed=event.note,
                field="note",
            )
        case SuggestionAnswered():
            return Entry(
                event.suggestion_id,
                event.answered_by,
                level=event.level,
                sealed=event.answer,
                field="answer",
            )
        case SuggestionAssigned():
            return Entry(
                event.suggestion_id,
                event.assigned_by,
                level=event.level,
                department=event.department,
            )
        case SuggestionResolved():
            return Entry(
                event.suggestion_id,
                event.resolved_by,
                department=event.department,
                sealed=event.outcome,
                field="outcome",
            )
        case SuggestionClosed():
            return Entry(event.suggestion_id, event.closed_by)
        case SuggestionReopened():
            return Entry(
                event.suggestion_id,
                event.reopened_by,
                event.holder_id,
                event.level,
                sealed=event.reason,
                field="reason",
            )
        case SuggestionReceived():
            return Entry(
                event.suggestion_id, None, event.holder_id, sealed=event.text, field="text"
            )
        case SuggestionRated():
            return Entry(
                event.suggestion_id,
                event.rated_by,
                event.holder_id if event.reopened else None,
                event.level,
                reason=event.rating,
                sealed=event.comment,
                field="comment",
            )
        case SuggestionDepartmentOverdue():
            return Entry(
                event.suggestion_id,
                None,
                level=event.level,
                reason="department_overdue",
                department=event.department,
            )
        case SuggestionTakenUp():
            return Entry(
                event.suggestion_id,
                event.taken_up_by,
                level=event.level,
                department=event.department,
            )
        case SuggestionSetAside():
            return Entry(
                event.suggestion_id,
                event.set_aside_by,
                level=event.level,
                reason=event.mark,
                sealed=event.reason,
                field="reason",
            )
    return None


class FeedbackProjection:
    """Projection of the feedback events into ``<prefix>view_suggestions`` and its timeline."""

    name = "feedback.view"
    services = ("feedback",)

    def __init__(
        self,
        vault: PersonalDataVault,
        policy: DeadlinePolicy,
        prefix: str = "",
        department_days: float | None = None,
    ) -> None:
        self.vault = vault
        self.policy = policy
        self.p = prefix
        self.department_days = department_days
        """How long a department has for its outcome (None: no deadline runs)."""

    async def setup(self, tx: Tx) -> None:
        """Create the tables."""
        p = self.p
        index = p.replace(".", "_")
        for statement in (
            f"CREATE TABLE IF NOT EXISTS {p}view_suggestions (suggestion_id TEXT PRIMARY KEY, "
            "raised_by TEXT NOT NULL, on_behalf_of TEXT, category TEXT NOT NULL, "
            "channel TEXT NOT NULL, text TEXT, status TEXT NOT NULL, holder_id TEXT, "
            "holder_tier TEXT, level INTEGER NOT NULL, department TEXT, answer TEXT, "
            "outcome TEXT, raised_at TEXT NOT NULL, arrived_at TEXT NOT NULL, due_at TEXT, "
            "due_kind TEXT, updated_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {index}view_suggestions_holder "
            f"ON {p}view_suggestions (holder_id, status)",
            f"CREATE INDEX IF NOT EXISTS {index}view_suggestions_due "
            f"ON {p}view_suggestions (due_at)",
            f"CREATE INDEX IF NOT EXISTS {index}view_suggestions_raised_by "
            f"ON {p}view_suggestions (raised_by)",
            # The rule the current holder's clock started under, as its event recorded it
            # (a table of its own: a view built before rules were recorded has no row).
            f"CREATE TABLE IF NOT EXISTS {p}view_clocks (suggestion_id TEXT PRIMARY KEY, "
            "deadline TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {p}view_timeline (suggestion_id TEXT NOT NULL, "
            "stream_version INTEGER NOT NULL, type TEXT NOT NULL, time TEXT NOT NULL, "
            "actor TEXT NOT NULL, level INTEGER, holder_id TEXT, reason TEXT, department TEXT, "
            "text TEXT, PRIMARY KEY (suggestion_id, stream_version))",
        ):
            await tx.execute(statement)

    async def reset(self, tx: Tx) -> None:
        """Empty the tables."""
        await tx.execute(f"DELETE FROM {self.p}view_suggestions")
        await tx.execute(f"DELETE FROM {self.p}view_timeline")
        await tx.execute(f"DELETE FROM {self.p}view_clocks")

    async def _clear(self, step: Entry) -> str | None:
        if step.sealed is None:
            return None
        data = await self.vault.unseal(step.suggestion_id, step.sealed)
        return None if data is None else data.get(step.field)

    async def _update(self, tx: Tx, sid: str, at: str, **columns: Any) -> None:
        names = list(columns)
        sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=3))
        await tx.execute(
            f"UPDATE {self.p}view_suggestions SET updated_at = $2, {sets} WHERE suggestion_id = $1",
            sid,
            at,
            *columns.values(),
        )

    async def _settled(self, tx: Tx, sid: str, at: datetime, status: str, **more: Any) -> None:
        """The suggestion in a state no deadline runs in (answered, resolved, closed, set
        aside): off every clock."""
        await self._update(
            tx, sid, format_time(at), status=status, due_at=None, due_kind=None, **more
        )

    async def _arrived(
        self,
        tx: Tx,
        sid: str,
        at: datetime,
        status: str,
        tier: str | None,
        recorded: Recorded,
        **more: Any,
    ) -> None:
        due = self.policy.recorded_due(status, tier, at, recorded)
        await tx.execute(
            f"INSERT INTO {self.p}view_clocks (suggestion_id, deadline) VALUES ($1, $2) "
            "ON CONFLICT (suggestion_id) DO UPDATE SET deadline = excluded.deadline",
            sid,
            dump_recorded(recorded),
        )
        await self._update(
            tx,
            sid,
            format_time(at),
            status=status,
            arrived_at=format_time(at),
            due_at=format_time(due[0]) if due else None,
            due_kind=due[1] if due else None,
            **more,
        )

    async def _inserted(
        self,
        tx: Tx,
        sid: str,
        at: datetime,
        event: SuggestionRaised | SuggestionReceived,
        raised_by: str,
        on_behalf_of: UUID | None,
        channel: str,
        text: str | None,
    ) -> None:
        """A new suggestion's row, held by its first holder at level 0, and its clock."""
        await tx.execute(
            f"INSERT INTO {self.p}view_suggestions (suggestion_id, raised_by, "
            "on_behalf_of, category, channel, text, status, holder_id, holder_tier, "
            "level, raised_at, arrived_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, "
            "'held', $7, $8, 0, $9, $9, $9) ON CONFLICT (suggestion_id) DO NOTHING",
            sid,
            raised_by,
            as_text(on_behalf_of),
            event.category,
            channel,
            text,
            as_text(event.holder_id),
            event.holder_tier,
            format_time(at),
        )
        await self._arrived(tx, sid, at, "held", event.holder_tier, event.deadline)

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        """Apply one feedback event."""
        event = delivered.event
        step = entry(event)
        if step is None:
            return
        at, sid = delivered.time, str(step.suggestion_id)
        clear = await self._clear(step)
        match event:
            case SuggestionRaised():
                await self._inserted(
                    tx,
                    sid,
                    at,
                    event,
                    str(event.raised_by),
                    event.on_behalf_of,
                    event.channel,
                    clear,
                )
            case SuggestionReceived():
                # A QR code or link is the online channel; the event itself says it was a link.
                await self._inserted(
                    tx, sid, at, event, NO_MEMBER, event.worker_id, "online", clear
                )
            case SuggestionRated(reopened=True):
                await self._arrived(tx, sid, at, "held", event.holder_tier, event.deadline)
            case SuggestionRated():
                await self._settled(tx, sid, at, "closed")
            case SuggestionSetAside():
                await self._settled(tx, sid, at, "set_aside")
            case SuggestionAcknowledged():
                row = await tx.fetchrow(
                    f"SELECT s.holder_tier, s.arrived_at, c.deadline FROM {self.p}"
                    f"view_suggestions s LEFT JOIN {self.p}view_clocks c "
                    "ON c.suggestion_id = s.suggestion_id WHERE s.suggestion_id = $1",
                    sid,
                )
                arrived = datetime.fromisoformat(row[1])
                recorded = load_recorded(row[2])
                due = self.policy.recorded_due("acknowledged", row[0], arrived, recorded)
                await self._update(
                    tx,
                    sid,
                    format_time(at),
                    status="acknowledged",
                    due_at=format_time(due[0]) if due else None,
                    due_kind=due[1] if due else None,
                )
            case SuggestionEscalated():
                await self._arrived(
                    tx,
                    sid,
                    at,
                    "held",
                    event.to_holder_tier,
                    event.deadline,
                    holder_id=as_text(event.to_holder_id),
                    holder_tier=event.to_holder_tier,
                    level=event.level + 1,
                )
            case SuggestionAnswered():
                await self._settled(tx, sid, at, "answered", answer=clear)
            case SuggestionAssigned():
                due_by = self._department_due(event, at)
                await self._update(
                    tx,
                    sid,
                    format_time(at),
                    status="assigned",
                    department=event.department,
                    due_at=None if due_by is None else format_time(due_by),
                    due_kind=None if due_by is None else "department",
                )
            case SuggestionDepartmentOverdue():
                # Back with whoever assigned it, flagged: no deadline runs until they act.
                await self._update(
                    tx,
                    sid,
                    format_time(at),
                    status="acknowledged",
                    due_at=None,
                    due_kind="department_overdue",
                )
            case SuggestionResolved():
                await self._settled(tx, sid, at, "resolved", outcome=clear)
            case SuggestionClosed():
                await self._settled(tx, sid, at, "closed")
            case SuggestionReopened():
                row = await tx.fetchrow(
                    f"SELECT holder_tier FROM {self.p}view_suggestions WHERE suggestion_id = $1",
                    sid,
                )
                await self._arrived(tx, sid, at, "held", row[0], event.deadline)
        await self._timeline(tx, delivered, sid, step, clear)

    def _department_due(self, event: SuggestionAssigned, at: datetime) -> datetime | None:
        """The department's deadline as the assignment recorded it (one recorded before rules
        were: ``department_days`` calendar days, as then)."""
        if event.deadline == "unrecorded":
            days = self.department_days
            return None if days is None else at + timedelta(days=days)
        return None if event.deadline is None else event.deadline.due_by

    async def _timeline(
        self, tx: Tx, delivered: Delivered, sid: str, step: Entry, clear: str | None
    ) -> None:
        level = step.level
        if level is None:  # raising, resolving and closing happen at the level it is at
            level = await tx.fetchval(
                f"SELECT level FROM {self.p}view_suggestions WHERE suggestion_id = $1", sid
            )
        await tx.execute(
            f"INSERT INTO {self.p}view_timeline (suggestion_id, stream_version, type, time, "
            "actor, level, holder_id, reason, department, text) VALUES ($1, $2, $3, $4, "
            "$5, $6, $7, $8, $9, $10) ON CONFLICT (suggestion_id, stream_version) DO NOTHING",
            sid,
            delivered.stream_version,
            delivered.event.event_type,
            format_time(delivered.time),
            f"member:{step.actor}" if step.actor else delivered.actor,
            level,
            as_text(step.holder_id),
            step.reason,
            step.department,
            clear,
        )

    async def wipe(self, tx: Tx, suggestion_id: UUID) -> None:
        """Drop a shredded suggestion's texts (its key was destroyed)."""
        sid = str(suggestion_id)
        await tx.execute(
            f"UPDATE {self.p}view_suggestions SET text = NULL, answer = NULL, outcome = NULL "
            "WHERE suggestion_id = $1",
            sid,
        )
        await tx.execute(
            f"UPDATE {self.p}view_timeline SET text = NULL WHERE suggestion_id = $1", sid
        )
