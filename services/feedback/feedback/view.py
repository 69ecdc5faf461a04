"""The feedback read model: suggestions with their timeline, holders' inboxes, due times.

Built from the feedback service's own events (``PostgresFollower`` in the full topology, the
in-process bus in the embedded default). Texts are unsealed here for the service's queries;
once a suggestion's key is destroyed they read as null. ``due_at`` is when the current
holder's deadline passes: the scheduler's index of what may be overdue (the decision itself
is taken again on the suggestion's stream).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from escalation import DeadlinePolicy
from eventspine.crypto import PersonalDataVault
from eventspine.envelope import RecordedEvent, format_time
from eventspine.projection import Tx

# Which sealed field each event carries, and the name it has inside the sealed data.
SEALED_FIELDS = {
    "SuggestionRaised": "text",
    "SuggestionEscalated": "note",
    "SuggestionAnswered": "answer",
    "SuggestionResolved": "outcome",
    "SuggestionReopened": "reason",
}
ACTOR_FIELDS = (
    "raised_by",
    "acknowledged_by",
    "escalated_by",
    "answered_by",
    "assigned_by",
    "resolved_by",
    "closed_by",
    "reopened_by",
)


class SuggestionView:
    """Projection of the feedback events into ``<prefix>view_suggestions`` and its timeline."""

    name = "feedback.view"
    services = ("feedback",)

    def __init__(self, vault: PersonalDataVault, policy: DeadlinePolicy, prefix: str = "") -> None:
        self.vault = vault
        self.policy = policy
        self.p = prefix

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

    async def _clear(self, event: RecordedEvent) -> str | None:
        key = SEALED_FIELDS.get(event.event_type)
        sealed = event.data.get(key) if key else None
        if key is None or sealed is None:
            return None
        data = await self.vault.unseal(UUID(event.data["suggestion_id"]), sealed)
        return None if data is None else data.get(key)

    async def _update(self, tx: Tx, sid: str, at: str, **columns: Any) -> None:
        names = list(columns)
        sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=3))
        await tx.execute(
            f"UPDATE {self.p}view_suggestions SET updated_at = $2, {sets} WHERE suggestion_id = $1",
            sid,
            at,
            *columns.values(),
        )

    async def _arrived(
        self, tx: Tx, sid: str, at: datetime, status: str, tier: str | None, **more: Any
    ) -> None:
        due = self.policy.due(status, tier, at)
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

    async def apply(self, tx: Tx, event: RecordedEvent) -> None:
        """Apply one feedback event."""
        d, at, sid = event.data, event.time, event.data["suggestion_id"]
        clear = await self._clear(event)
        match event.event_type:
            case "SuggestionRaised":
                await tx.execute(
                    f"INSERT INTO {self.p}view_suggestions (suggestion_id, raised_by, "
                    "on_behalf_of, category, channel, text, status, holder_id, holder_tier, "
                    "level, raised_at, arrived_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, "
                    "'held', $7, $8, 0, $9, $9, $9) ON CONFLICT (suggestion_id) DO NOTHING",
                    sid,
                    d["raised_by"],
                    d["on_behalf_of"],
                    d["category"],
                    d["channel"],
                    clear,
                    d["holder_id"],
                    d["holder_tier"],
                    format_time(at),
                )
                await self._arrived(tx, sid, at, "held", d["holder_tier"])
            case "SuggestionAcknowledged":
                row = await tx.fetchrow(
                    f"SELECT holder_tier, arrived_at FROM {self.p}view_suggestions "
                    "WHERE suggestion_id = $1",
                    sid,
                )
                arrived = datetime.fromisoformat(row[1])
                due = self.policy.due("acknowledged", row[0], arrived)
                await self._update(
                    tx,
                    sid,
                    format_time(at),
                    status="acknowledged",
                    due_at=format_time(due[0]) if due else None,
                    due_kind=due[1] if due else None,
                )
            case "SuggestionEscalated":
                await self._arrived(
                    tx,
                    sid,
                    at,
                    "held",
                    d["to_holder_tier"],
                    holder_id=d["to_holder_id"],
                    holder_tier=d["to_holder_tier"],
                    level=d["level"] + 1,
                )
            case "SuggestionAnswered":
                await self._update(
                    tx,
                    sid,
                    format_time(at),
                    status="answered",
                    answer=clear,
                    due_at=None,
                    due_kind=None,
                )
            case "SuggestionAssigned":
                await self._update(
                    tx,
                    sid,
                    format_time(at),
                    status="assigned",
                    department=d["department"],
                    due_at=None,
                    due_kind=None,
                )
            case "SuggestionResolved":
                await self._update(tx, sid, format_time(at), status="resolved", outcome=clear)
            case "SuggestionClosed":
                await self._update(
                    tx, sid, format_time(at), status="closed", due_at=None, due_kind=None
                )
            case "SuggestionReopened":
                row = await tx.fetchrow(
                    f"SELECT holder_tier FROM {self.p}view_suggestions WHERE suggestion_id = $1",
                    sid,
                )
                await self._arrived(tx, sid, at, "held", row[0])
        await self._timeline(tx, event, clear)

    async def _timeline(self, tx: Tx, event: RecordedEvent, clear: str | None) -> None:
        d = event.data
        actor = next((d[name] for name in ACTOR_FIELDS if d.get(name)), None)
        holder = d.get("to_holder_id", d.get("holder_id"))
        reason = d.get("reason") if event.event_type == "SuggestionEscalated" else None
        level = d.get("level")
        if level is None:  # closing and resolving happen at the level the suggestion is at
            level = await tx.fetchval(
                f"SELECT level FROM {self.p}view_suggestions WHERE suggestion_id = $1",
                d["suggestion_id"],
            )
        elif event.event_type == "SuggestionEscalated":
            level += 1
        await tx.execute(
            f"INSERT INTO {self.p}view_timeline (suggestion_id, stream_version, type, time, "
            "actor, level, holder_id, reason, department, text) VALUES ($1, $2, $3, $4, "
            "$5, $6, $7, $8, $9, $10) ON CONFLICT (suggestion_id, stream_version) DO NOTHING",
            d["suggestion_id"],
            event.stream_version,
            event.event_type,
            format_time(event.time),
            f"member:{actor}" if actor else event.actor,
            level,
            holder,
            reason,
            d.get("department"),
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
