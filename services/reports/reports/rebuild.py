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

Several instances (PostgreSQL; the embedded default is one process):

- *One rebuild at a time.* A rebuild holds the backend's :meth:`Backend.claim` for its whole
  run (PostgreSQL: a session-level advisory lock on a connection of its own, released by
  PostgreSQL when that session ends, so a killed instance leaves no stale claim). An instance
  that cannot take it answers ``rebuild_running``, as for a second rebuild on itself. The
  pointer is moved and the older generations dropped on the claim's own session: a rebuild
  whose claim session was lost (and may have been taken by another instance since) fails
  there instead of swapping or dropping beside the other one.
- *Every instance follows the pointer.* Each instance reads the pointer every
  ``follow_every_seconds`` (:meth:`Rebuilder.follow`); when it names another generation than
  the one served, the instance opens that generation (its feed joins the generation's consumer
  groups), answers from it and stops its old feed, as the rebuilding instance did at its swap.
- *No event is applied to the old generation only.* A generation's consumer groups and their
  offsets (stored in the generation's schema) belong to it alone: from its first record, the
  new generation consumes every partition of the topics in its own groups, whichever instances
  are in them. An event the other instance's old feed applies after the swap (until it
  follows, its old feed is the old groups' only member and takes every partition) is therefore
  applied to the new generation as well, by the new groups; when that instance joins them it
  continues each partition from the offset committed with the new rows, so nothing is applied
  twice or skipped. Until it follows (a second or so) its reads answer from the old
  generation, which is still complete and fed.
- *The same story everywhere.* The status is recorded in the backend (PostgreSQL: the row of
  ``<base>.rebuild_status``) when a rebuild starts and when it ends, before its claim is
  released; ``GET /admin/rebuild`` on any instance reads it. A recorded ``running`` rebuild
  whose claim nobody holds any more was abandoned (its instance stopped): it is told as failed,
  or as swapped when the pointer names its generation. Only the instance running it knows its
  progress (``events_behind``: ``null`` on the others).
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


class Claim(Protocol):
    """The right to run a rebuild, held across instances for the rebuild's whole run."""

    async def release(self) -> None:
        """Give the claim up (never raises: a claim whose session is gone is given up too)."""


class Backend(Protocol):
    """What a storage backend offers the rebuild."""

    retire_after_seconds: float
    """How long the old generation stays readable after a swap (requests still reading it)."""

    follow_every_seconds: float | None
    """How often an instance reads the pointer, to follow a swap another instance made
    (``None``: the backend is one process's, there is nothing to follow)."""

    async def current(self) -> Target:
        """The generation the pointer names (the first one when none was ever swapped in)."""

    def fresh(self, rebuild_id: str) -> Target:
        """A new, empty place for a rebuild."""

    async def open(self, target: Target) -> Generation:
        """Set up the generation's tables and start feeding it in the background."""

    async def point(self, target: Target, claim: Claim) -> None:
        """Make ``target`` the generation every instance serves from now on, while ``claim``
        is held (raise if it is not: nothing moves)."""

    async def ping(self) -> None:
        """Raise when the database cannot be reached."""

    async def drop_except(self, keep: Collection[Target], claim: Claim) -> list[str]:
        """Drop every generation but ``keep`` (none of the others is fed or read any more),
        while ``claim`` is held (raise if it is not: nothing is dropped); the locations
        dropped."""

    async def claim(self) -> Claim | None:
        """The right to rebuild, or ``None`` while another instance holds it."""

    async def record(self, status: RebuildStatus) -> None:
        """Keep ``status`` as the last rebuild's, for every instance to read: a running one
        replaces whatever was recorded, an ended one only its own running record (a rebuild
        that lost its claim never overwrites the one that took it since)."""

    async def recorded(self) -> RebuildStatus | None:
        """The last rebuild any instance recorded (a running one whose claim nobody holds told
        as :func:`abandoned` says), or ``None``."""

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
        None,
        description="while running: events the new projections have not applied yet (told by "
        "the instance running it only)",
    )
    started_at: datetime
    finished_at: datetime | None = None
    error: str | None = Field(
        None, description="why it failed, or why older generations could not be dropped"
    )


def abandoned(status: RebuildStatus, pointer: str) -> RebuildStatus:
    """A rebuild recorded as running whose claim nobody holds: its instance stopped before it
    recorded how it ended. Swapped when the pointer names its generation, else failed."""
    swapped = pointer == status.target
    when = "after the swap, before recording what it kept and dropped" if swapped else ""
    return status.model_copy(
        update={
            "state": "swapped" if swapped else "failed",
            "error": f"abandoned: its instance stopped {when or 'before the swap'}",
        }
    )


class Rebuilder:
    """Runs one rebuild at a time in the background, across instances; a second request while
    one runs (here or on another instance) is a 409. Follows the swaps other instances make."""

    def __init__(
        self, backend: Backend, serving: Serving, *, timeout_seconds: float = 3600.0
    ) -> None:
        self.backend = backend
        self.serving = serving
        self.timeout_seconds = timeout_seconds
        # Held by this instance's rebuild or follow: each of them replaces ``serving.live``.
        self._lock = asyncio.Lock()
        self._status: RebuildStatus | None = None
        self._task: asyncio.Task[None] | None = None
        self._building: Generation | None = None
        self._stop_following = asyncio.Event()
        self._following: asyncio.Task[None] | None = None

    @staticmethod
    def _refusal() -> StateConflictError:
        return StateConflictError("rebuild", "a rebuild is already running", code="rebuild_running")

    async def start(self) -> RebuildStatus:
        """Start a rebuild and return at once (its status says how it goes)."""
        if self._lock.locked():
            raise self._refusal()
        await self._lock.acquire()  # free: taken without yielding, so no second one slips in
        try:
            claim = await self.backend.claim()
            if claim is None:  # another instance's rebuild
                raise self._refusal()
            try:
                # Another instance may have swapped since this one last looked: rebuild beside
                # the generation the pointer names (the one the swap keeps).
                await self._follow_pointer()
                rebuild_id = uuid.uuid4().hex[:8]
                target = self.backend.fresh(rebuild_id)
                status = RebuildStatus(
                    id=rebuild_id,
                    state="running",
                    target=target.location,
                    previous=self.serving.live.target.location,
                    group_prefix=target.group_prefix,
                    started_at=datetime.now(UTC),
                )
                await self.backend.record(status)
                self._status = status
                self._task = asyncio.create_task(self._run(target, claim))
            except BaseException:
                await claim.release()
                raise
        except BaseException:
            self._lock.release()
            raise
        return status

    async def status(self) -> RebuildStatus | None:
        """The running or the last rebuild of any instance, as recorded (with its progress
        while it runs on this instance)."""
        found, mine, building = await self.backend.recorded(), self._status, self._building
        if found is None or found.state != "running" or building is None or mine is None:
            return found
        if mine.id != found.id:
            return found
        try:
            behind: int | None = await building.feed.behind()
        except Exception:  # the new runner died: the task reports it as failed
            behind = None
        return found.model_copy(update={"events_behind": behind})

    async def wait(self) -> RebuildStatus | None:
        """Wait for this instance's running rebuild (if any) to finish; its final status."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._task)
        return self._status

    async def follow(self) -> bool:
        """Answer from the generation the pointer names, when another instance swapped it in:
        open it (its feed joins that generation's consumer groups and continues from their
        stored offsets), swap it in, stop the old generation's feed. Whether it did; skipped
        while this instance rebuilds or follows already."""
        if self._lock.locked():
            return False
        async with self._lock:
            return await self._follow_pointer()

    def follow_in_background(self) -> None:
        """Follow the pointer every ``follow_every_seconds`` until :meth:`close` (never when
        the backend is one process's)."""
        every = self.backend.follow_every_seconds
        if every is None or self._following is not None:
            return
        self._stop_following.clear()
        self._following = asyncio.create_task(self._follow_every(every))

    async def close(self) -> None:
        """Stop following (a follow under way ends first, so no feed is left half started),
        then abandon a running rebuild (its new runners stop; its rows stay)."""
        self._stop_following.set()
        if self._following is not None:
            await self._following
            self._following = None
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _follow_pointer(self) -> bool:
        target = await self.backend.current()
        old = self.serving.live
        if target == old.target:
            return False
        new = await self.backend.open(target)
        self.serving.live = new  # as at a swap: every request from now on reads ``new``
        log.info("reports.rebuild.followed", target=target.location, previous=old.target.location)
        try:
            await asyncio.sleep(self.backend.retire_after_seconds)
        finally:
            await old.feed.stop()
        return True

    async def _follow_every(self, every: float) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_following.wait(), every)
            if self._stop_following.is_set():
                return
            try:
                await self.follow()
            except Exception as exc:  # the database is away, say: the next look tries again
                log.warning("reports.rebuild.follow_failed", error=repr(exc))

    def _finish(
        self, state: Literal["swapped", "failed"], error: str | None = None, **done: list[str]
    ) -> None:
        assert self._status is not None
        self._status = self._status.model_copy(
            update={"state": state, "finished_at": datetime.now(UTC), "error": error, **done}
        )

    async def _record_end(self) -> None:
        """Record how it ended; before the claim is released, so no instance ever reads a
        running rebuild that nobody runs (but for a stopped instance's)."""
        assert self._status is not None
        try:
            await self.backend.record(self._status)
        except Exception:
            log.exception("reports.rebuild.record_failed", id=self._status.id)

    async def _run(self, target: Target, claim: Claim) -> None:
        try:
            old = self.serving.live
            new = self._building = await self.backend.open(target)
            try:
                await self._catch_up(new, old)
                await self.backend.point(target, claim)
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
                dropped = await self.backend.drop_except((target, old.target), claim)
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
            try:
                await self._record_end()
            finally:
                await claim.release()
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
