"""Rebuilding the reports' projections from the first event, beside the live ones, then a swap.

A *generation* is one copy of both projections (:class:`ComplianceProjection` and
:class:`SuggestionProjection`): where its rows live, what feeds them and the views that read
them. The service serves one generation, named by a pointer the backend keeps (PostgreSQL: the
row of ``<base>.current_generation``; SQLite: the file ``reports.current``).

A rebuild opens a fresh generation (PostgreSQL: schema ``<base>_r<id>`` consumed by the
consumer groups ``<topic prefix>.r<id>.projection.<name>``, so every offset starts at 0;
SQLite: the file ``reports-r<id>.sqlite`` fed by its own bus), lets it consume while the live
one keeps feeding and answering, waits until it has caught up with the topics (or stores) and
has applied at least what the live one had, then moves the pointer, swaps the generation the
views answer from (one assignment) and stops the old generation's feed. The previous generation
is kept, so an operator can compare it with the new one; every older one is dropped (its schema
or file), so repeated rebuilds leave two generations, not one more each time. The status names
both (``kept``, ``dropped``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import structlog
from pydantic import BaseModel, Field

from eventspine.errors import StateConflictError
from eventspine.replica import Feed
from reports.queue import SuggestionViews
from reports.views import ComplianceView

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Target:
    """Where a generation lives: a PostgreSQL schema (and consumer-group prefix) or a file."""

    location: str
    group_prefix: str = ""


@dataclass(frozen=True)
class Generation:
    """One running copy of both projections and the views answering from it."""

    target: Target
    views: ComplianceView
    suggestions: SuggestionViews
    feed: Feed
    last_event_time: Callable[[], Awaitable[datetime | None]]
    positions: Callable[[], Awaitable[dict[tuple[Any, ...], int]]]
    """How far each projection has applied each source (partition offset or store position)."""

    async def level_with(self, other: Generation) -> bool:
        """Whether this generation has applied at least everything ``other`` had applied."""
        mine, theirs = await self.positions(), await other.positions()
        return all(mine.get(key, 0) >= value for key, value in theirs.items())


class Backend(Protocol):
    """What a storage backend offers the rebuild."""

    retire_after_seconds: float
    """How long the old generation stays readable after a swap (requests still reading it)."""

    async def current(self) -> Target:
        """The generation the pointer names (the first one when none was ever swapped in)."""

    def fresh(self, rebuild_id: str) -> Target:
        """A new, empty place for a rebuild."""

    async def open(self, target: Target) -> Generation:
        """Set up the generation's tables and start feeding it in the background."""

    async def point(self, target: Target) -> None:
        """Make ``target`` the generation the service opens from now on."""

    async def ping(self) -> None:
        """Raise when the database cannot be reached."""

    async def drop_except(self, keep: Collection[Target]) -> list[str]:
        """Drop every generation but ``keep`` (none of the others is fed or read any more);
        the locations dropped."""

    async def close(self) -> None:
        """Release what every generation shares (the pool, the store files)."""


class Serving(Protocol):
    """The service, as the rebuild sees it: the generation it answers from."""

    live: Generation


class RebuildStatus(BaseModel):
    """A rebuild of the reports' projections."""

    id: str = Field(description="the rebuild's id (also in the new schema's or file's name)")
    state: Literal["running", "swapped", "failed"]
    target: str = Field(description="the new schema (PostgreSQL) or file (SQLite)")
    previous: str = Field(description="the generation answering when it started; kept")
    kept: list[str] = Field(
        default_factory=list,
        description="once swapped: the generations kept, the new one and the previous one",
    )
    dropped: list[str] = Field(
        default_factory=list,
        description="once swapped: the older generations dropped (schemas or files)",
    )
    group_prefix: str = Field("", description="consumer-group prefix of the new runners")
    events_behind: int | None = Field(
        None, description="while running: events the new projections have not applied yet"
    )
    started_at: datetime
    finished_at: datetime | None = None
    error: str | None = Field(
        None, description="why it failed, or why older generations could not be dropped"
    )


class Rebuilder:
    """Runs one rebuild at a time in the background; a second request while one runs is a 409."""

    def __init__(
        self, backend: Backend, serving: Serving, *, timeout_seconds: float = 3600.0
    ) -> None:
        self.backend = backend
        self.serving = serving
        self.timeout_seconds = timeout_seconds
        self._lock = asyncio.Lock()
        self._status: RebuildStatus | None = None
        self._task: asyncio.Task[None] | None = None
        self._building: Generation | None = None

    async def start(self) -> RebuildStatus:
        """Start a rebuild and return at once (its status says how it goes)."""
        if self._lock.locked():
            raise StateConflictError(
                "rebuild", "a rebuild is already running", code="rebuild_running"
            )
        await self._lock.acquire()  # free: taken without yielding, so no second one slips in
        try:
            rebuild_id = uuid.uuid4().hex[:8]
            target = self.backend.fresh(rebuild_id)
            self._status = RebuildStatus(
                id=rebuild_id,
                state="running",
                target=target.location,
                previous=self.serving.live.target.location,
                group_prefix=target.group_prefix,
                started_at=datetime.now(UTC),
            )
            self._task = asyncio.create_task(self._run(target))
        except BaseException:
            self._lock.release()
            raise
        return self._status

    async def status(self) -> RebuildStatus | None:
        """The running or the last rebuild, if any (with its progress while it runs)."""
        status, building = self._status, self._building
        if status is None or status.state != "running" or building is None:
            return status
        try:
            behind: int | None = await building.feed.behind()
        except Exception:  # the new runner died: the task reports it as failed
            behind = None
        return status.model_copy(update={"events_behind": behind})

    async def wait(self) -> RebuildStatus | None:
        """Wait for the running rebuild (if any) to finish; its final status."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._task)
        return self._status

    async def close(self) -> None:
        """Abandon a running rebuild (its new runners stop; its rows stay)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def _finish(
        self, state: Literal["swapped", "failed"], error: str | None = None, **done: list[str]
    ) -> None:
        assert self._status is not None
        self._status = self._status.model_copy(
            update={"state": state, "finished_at": datetime.now(UTC), "error": error, **done}
        )

    async def _run(self, target: Target) -> None:
        try:
            old = self.serving.live
            new = self._building = await self.backend.open(target)
            try:
                await self._catch_up(new, old)
                await self.backend.point(target)
            except BaseException:
                await new.feed.stop()
                raise
            self.serving.live = new  # the swap: every request from now on reads ``new``
            log.info(
                "reports.rebuild.swapped", target=target.location, previous=old.target.location
            )
            try:
                await asyncio.sleep(self.backend.retire_after_seconds)
            finally:
                await old.feed.stop()
            kept = [target.location, old.target.location]
            try:
                dropped = await self.backend.drop_except((target, old.target))
            except Exception as exc:  # swapped all the same: the next rebuild drops them
                log.exception("reports.rebuild.drop_failed", kept=kept)
                self._finish("swapped", f"{type(exc).__name__}: {exc}", kept=kept)
            else:
                log.info("reports.rebuild.dropped", kept=kept, dropped=dropped)
                self._finish("swapped", kept=kept, dropped=dropped)
        except asyncio.CancelledError:
            self._finish("failed", "abandoned: the service stopped")
            raise
        except Exception as exc:
            log.exception("reports.rebuild.failed", target=target.location)
            self._finish("failed", f"{type(exc).__name__}: {exc}")
        finally:
            self._building = None
            self._lock.release()

    async def _catch_up(self, new: Generation, old: Generation) -> None:
        """Until the new generation is level with the topics and with the live generation."""
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"not caught up in {self.timeout_seconds} s")
            if await new.feed.catch_up(left) and await new.level_with(old):
                return
            await asyncio.sleep(0.05)
