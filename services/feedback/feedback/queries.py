"""Queries over the feedback read model (``feedback.view``); they never touch the event store."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventspine.envelope import format_time
from eventspine.projection import Tx
from feedback.models import (
    SuggestionPublic,
    SuggestionsPublic,
    SuggestionWithTimeline,
    TimelineEntry,
)
from feedback.projections import NO_MEMBER
from feedback.state import OPEN

_COLUMNS = (
    "suggestion_id, raised_by, on_behalf_of, category, channel, text, status, holder_id, "
    "holder_tier, level, department, answer, outcome, raised_at, arrived_at, due_at, due_kind"
)
_OPEN = ", ".join(f"'{status}'" for status in OPEN)


def _suggestion(row: Any) -> SuggestionPublic:
    values = dict(zip(_COLUMNS.split(", "), row, strict=True))
    if values["raised_by"] == NO_MEMBER:
        values["raised_by"] = None  # a worker by an intake link
    return SuggestionPublic(**values)


class FeedbackQueries:
    """Read-only questions about suggestions."""

    def __init__(self, reader: Tx, prefix: str = "") -> None:
        self.reader = reader
        self.p = prefix

    async def _page(
        self, where: str, args: list[Any], order: str, limit: int, offset: int
    ) -> SuggestionsPublic:
        count = await self.reader.fetchval(
            f"SELECT count(*) FROM {self.p}view_suggestions WHERE {where}", *args
        )
        n = len(args)
        rows = await self.reader.fetch(
            f"SELECT {_COLUMNS} FROM {self.p}view_suggestions WHERE {where} "
            f"ORDER BY {order}, suggestion_id LIMIT ${n + 1} OFFSET ${n + 2}",
            *args,
            limit,
            offset,
        )
        return SuggestionsPublic(data=[_suggestion(r) for r in rows], count=int(count))

    async def suggestion(self, suggestion_id: UUID) -> SuggestionWithTimeline | None:
        """One suggestion with its full timeline, or None."""
        row = await self.reader.fetchrow(
            f"SELECT {_COLUMNS} FROM {self.p}view_suggestions WHERE suggestion_id = $1",
            str(suggestion_id),
        )
        if row is None:
            return None
        steps = await self.reader.fetch(
            f"SELECT stream_version, type, time, actor, level, holder_id, reason, department, "
            f"text FROM {self.p}view_timeline WHERE suggestion_id = $1 ORDER BY stream_version",
            str(suggestion_id),
        )
        names = ("stream_version", "type", "time", "actor", "level", "holder_id", "reason")
        timeline = [
            TimelineEntry(**dict(zip((*names, "department", "text"), step, strict=True)))
            for step in steps
        ]
        return SuggestionWithTimeline(**_suggestion(row).model_dump(), timeline=timeline)

    async def inbox(self, holder_id: UUID | None, limit: int, offset: int) -> SuggestionsPublic:
        """What waits on a holder (None: on the federation leadership), soonest due first."""
        if holder_id is None:
            where, args = f"holder_id IS NULL AND status IN ({_OPEN})", []
        else:
            where, args = f"holder_id = $1 AND status IN ({_OPEN})", [str(holder_id)]
        # A department's overdue step (back with its assigner) first; then the soonest due;
        # nulls (no deadline running) after dated ones in both PostgreSQL and SQLite.
        order = (
            "CASE WHEN due_kind = 'department_overdue' THEN 0 WHEN due_at IS NULL THEN 2 "
            "ELSE 1 END, due_at, arrived_at"
        )
        return await self._page(where, args, order, limit, offset)

    async def raised_by(self, member_id: UUID, limit: int, offset: int) -> SuggestionsPublic:
        """Suggestions a member raised or that were raised for them, newest first."""
        return await self._page(
            "raised_by = $1 OR on_behalf_of = $1",
            [str(member_id)],
            "raised_at DESC",
            limit,
            offset,
        )

    async def assigned_to(self, department: str, limit: int, offset: int) -> SuggestionsPublic:
        """What waits on a department's outcome, soonest deadline first."""
        order = "CASE WHEN due_at IS NULL THEN 1 ELSE 0 END, due_at, arrived_at"
        return await self._page(
            "department = $1 AND status = 'assigned'", [department], order, limit, offset
        )

    async def overdue(self, now: datetime, limit: int) -> list[UUID]:
        """Suggestions whose holder's deadline has passed by ``now`` (the scheduler's index)."""
        rows = await self.reader.fetch(
            f"SELECT suggestion_id FROM {self.p}view_suggestions WHERE due_at <= $1 "
            "AND status IN ('held', 'acknowledged') AND holder_id IS NOT NULL "
            "ORDER BY due_at LIMIT $2",
            format_time(now),
            limit,
        )
        return [UUID(row[0]) for row in rows]

    async def department_overdue(self, now: datetime, limit: int) -> list[UUID]:
        """Suggestions whose department's deadline has passed by ``now`` without an outcome."""
        rows = await self.reader.fetch(
            f"SELECT suggestion_id FROM {self.p}view_suggestions WHERE due_at <= $1 "
            "AND status = 'assigned' AND due_kind = 'department' ORDER BY due_at LIMIT $2",
            format_time(now),
            limit,
        )
        return [UUID(row[0]) for row in rows]

    async def open_by_holder(self) -> dict[UUID, list[UUID]]:
        """Suggestions waiting on a holder, by holder (to find holders who departed)."""
        rows = await self.reader.fetch(
            f"SELECT holder_id, suggestion_id FROM {self.p}view_suggestions "
            "WHERE holder_id IS NOT NULL AND status IN ('held', 'acknowledged')"
        )
        held: dict[UUID, list[UUID]] = {}
        for row in rows:
            held.setdefault(UUID(row[0]), []).append(UUID(row[1]))
        return held

    async def raised_ids(self, member_id: UUID) -> list[UUID]:
        """Every suggestion a member raised or that was raised for them."""
        rows = await self.reader.fetch(
            f"SELECT suggestion_id FROM {self.p}view_suggestions "
            "WHERE raised_by = $1 OR on_behalf_of = $1",
            str(member_id),
        )
        return [UUID(row[0]) for row in rows]
