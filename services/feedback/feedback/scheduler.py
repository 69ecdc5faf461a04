"""The deadline scheduler: moves suggestions up the chain when a level's deadline passes, and
sends a department's step back to whoever assigned it when the department's deadline passes.

``tick(now)`` finds candidates in the read model (its ``due_at`` index, and holders the roster
replica says departed) and hands each, as an :class:`~feedback.commands.EscalateOverdue`, to
the normal handler, which decides on the suggestion's stream and appends with the version it
read. So the scheduler is idempotent and safe in several replicas at once (the loser of a race
reloads, finds nothing due, appends nothing), and correct after a restart (it keeps no state of
its own: what is due is computed from the events). Time comes from the injected clock; tests
call ``tick`` with a moved clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

import structlog

from eventspine.aggregate import retry_on_conflict
from eventspine.clock import FederationClock
from eventspine.store.base import CommandContext
from feedback.commands import EscalateOverdue
from feedback.handlers import SCHEDULER_ACTOR, FeedbackHandlers
from feedback.queries import FeedbackQueries

log = structlog.get_logger(__name__)


class DeadlineScheduler:
    """Escalates overdue suggestions; run :meth:`run` in the app, or :meth:`tick` in tests."""

    def __init__(
        self,
        handlers: FeedbackHandlers,
        queries: FeedbackQueries,
        catch_up: Callable[[], Awaitable[int]],
        clock: FederationClock,
        *,
        interval_seconds: float = 60.0,
        batch_size: int = 500,
        concurrency: int = 4,
    ) -> None:
        self.handlers = handlers
        self.queries = queries
        self.catch_up = catch_up
        self.clock = clock
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size
        self.concurrency = concurrency

    async def _candidates(self, now: datetime) -> list[UUID]:
        due = await self.queries.overdue(now, self.batch_size)
        held = await self.queries.open_by_holder()
        gone = await self.handlers.chain.inactive(held)
        departed = [sid for holder in gone for sid in held[holder]]
        return list(dict.fromkeys([*due, *departed]))

    async def tick(self, now: datetime | None = None) -> int:
        """Escalate everything overdue at ``now`` (default: the clock); return how many."""
        moment = now or self.clock.now()
        await self.catch_up()  # the index must include what other replicas appended
        # Departures the replica has not applied yet are found by a later tick; no waiting.
        await self.handlers.feed.catch_up(0)
        correlation = uuid.uuid4()
        gate = asyncio.Semaphore(self.concurrency)
        command = EscalateOverdue(at=moment)

        async def one(suggestion_id: UUID) -> int:
            ctx = CommandContext(actor=SCHEDULER_ACTOR, correlation_id=correlation)
            # The handler directly rather than the pipeline: the read model catches up once
            # per tick, not once per suggestion, and a tick has no Idempotency-Key to answer.
            async with gate:
                recorded = await retry_on_conflict(
                    lambda: self.handlers.escalate_overdue(
                        command, ctx, suggestion_id=suggestion_id
                    )
                )
            return len(recorded)

        async def back_up(suggestion_id: UUID) -> int:
            ctx = CommandContext(actor=SCHEDULER_ACTOR, correlation_id=correlation)
            async with gate:
                recorded = await retry_on_conflict(
                    lambda: self.handlers.department_overdue(
                        command, ctx, suggestion_id=suggestion_id
                    )
                )
            return len(recorded)

        escalated = sum(await asyncio.gather(*(one(s) for s in await self._candidates(moment))))
        # A department's step past its deadline goes back to whoever assigned it (超期).
        lapsed = await self.queries.department_overdue(moment, self.batch_size)
        escalated += sum(await asyncio.gather(*(back_up(s) for s in lapsed)))
        if escalated:
            await self.catch_up()
            log.info("feedback.escalated", count=escalated, now=moment.isoformat())
        return escalated

    async def run(self, stop: asyncio.Event) -> None:
        """Tick every ``interval_seconds`` until ``stop`` is set; a failed tick is logged."""
        while not stop.is_set():
            try:
                while await self.tick() >= self.batch_size:
                    pass  # a full batch: more may be waiting
            except Exception:
                log.exception("feedback.scheduler_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_seconds)
