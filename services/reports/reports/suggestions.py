"""The suggestion projection: where every suggestion is, and who did what with it.

Fed by the feedback topic. The escalation queue and the performance records are questions
over these rows; the deadlines come from the shared escalation policy (:mod:`escalation`,
``SANLIAN_FEEDBACK_DEADLINES``), so the queue shows exactly the deadlines that escalate.
"""

from __future__ import annotations

from datetime import datetime

from eventspine.envelope import RecordedEvent, format_time
from eventspine.projection import Tx

TABLES = {
    "r_suggestions": "suggestion_id TEXT PRIMARY KEY, raised_by TEXT NOT NULL, "
    "on_behalf_of TEXT, category TEXT NOT NULL, status TEXT NOT NULL, holder_id TEXT, "
    "holder_tier TEXT, level INTEGER NOT NULL, escalations INTEGER NOT NULL, department TEXT, "
    "raised_at TEXT NOT NULL, arrived_at TEXT NOT NULL, first_answer_at TEXT, resolved_at TEXT, "
    "closed_at TEXT",
    "r_feedback_acts": "event_id TEXT PRIMARY KEY, suggestion_id TEXT NOT NULL, "
    "member_id TEXT NOT NULL, act TEXT NOT NULL, at TEXT NOT NULL, waited_seconds REAL",
}


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
        self, tx: Tx, event: RecordedEvent, member: str | None, act: str, waited: bool = False
    ) -> None:
        if member is None:
            return
        seconds = None
        if waited:  # how long the suggestion had waited for this member when they acted
            arrived = await tx.fetchval(
                f"SELECT arrived_at FROM {self.p}r_suggestions WHERE suggestion_id = $1",
                event.data["suggestion_id"],
            )
            if arrived:
                seconds = (event.time - datetime.fromisoformat(str(arrived))).total_seconds()
        await tx.execute(
            f"INSERT INTO {self.p}r_feedback_acts VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (event_id) DO NOTHING",
            str(event.id),
            event.data["suggestion_id"],
            member,
            act,
            format_time(event.time),
            seconds,
        )

    async def _set(self, tx: Tx, suggestion_id: str, assignments: str, *values: object) -> None:
        await tx.execute(
            f"UPDATE {self.p}r_suggestions SET {assignments} WHERE suggestion_id = $1",
            suggestion_id,
            *values,
        )

    async def apply(self, tx: Tx, event: RecordedEvent) -> None:
        """Apply one feedback event."""
        d, at = event.data, format_time(event.time)
        sid = str(d["suggestion_id"])
        match event.event_type:
            case "SuggestionRaised":
                await tx.execute(
                    f"INSERT INTO {self.p}r_suggestions VALUES ($1, $2, $3, $4, 'held', $5, $6, "
                    "0, 0, NULL, $7, $7, NULL, NULL, NULL) ON CONFLICT (suggestion_id) DO NOTHING",
                    sid,
                    d["raised_by"],
                    d["on_behalf_of"],
                    d["category"],
                    d["holder_id"],
                    d["holder_tier"],
                    at,
                )
                await self._act(tx, event, d["raised_by"], "raised")
            case "SuggestionAcknowledged":
                await self._act(tx, event, d["acknowledged_by"], "acknowledged", waited=True)
                await self._set(tx, sid, "status = 'acknowledged'")
            case "SuggestionEscalated":
                if d["reason"] == "by_hand":
                    await self._act(tx, event, d["escalated_by"], "relayed", waited=True)
                await self._set(
                    tx,
                    sid,
                    "status = 'held', holder_id = $2, holder_tier = $3, level = $4, "
                    "escalations = escalations + 1, arrived_at = $5",
                    d["to_holder_id"],
                    d["to_holder_tier"],
                    d["level"] + 1,
                    at,
                )
            case "SuggestionAnswered":
                await self._act(tx, event, d["answered_by"], "answered", waited=True)
                await self._set(
                    tx,
                    sid,
                    "status = 'answered', first_answer_at = coalesce(first_answer_at, $2)",
                    at,
                )
            case "SuggestionAssigned":
                await self._set(
                    tx,
                    sid,
                    "status = 'assigned', department = $2, arrived_at = $3",
                    d["department"],
                    at,
                )
            case "SuggestionResolved":
                await self._set(tx, sid, "status = 'resolved', resolved_at = $2", at)
            case "SuggestionClosed":
                await self._set(tx, sid, "status = 'closed', closed_at = $2", at)
            case "SuggestionReopened":
                await self._set(
                    tx,
                    sid,
                    "status = 'held', holder_id = $2, holder_tier = $3, arrived_at = $4",
                    d["holder_id"],
                    d["holder_tier"],
                    at,
                )
