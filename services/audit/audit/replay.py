"""Replay: rebuild the reports' projections from a history, optionally as of a moment.

The projections are the reports service's own (:class:`ComplianceProjection`,
:class:`SuggestionProjection`), applied in position order per service into a scratch SQLite
file, so the auditor sees exactly what the service computes, from the history alone. They
receive what every live feed gives them (:func:`eventspine.projection.deliver`): each event
decoded by the registry, so an event stored in an older schema version arrives upcast, as it
does on the service's own feeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from audit.heap import collector_paused
from audit.scratch import ScratchTx
from audit.sources import AuditInputError, History
from compliance import ContactRule
from escalation import DeadlineSettings
from eventspine.envelope import RecordedEvent
from eventspine.errors import DomainError, SpineError
from eventspine.events import EventRegistry
from eventspine.projection import Delivered, Projection, apply_all, deliver
from reports.models import ComplianceReport, QueuePage
from reports.projections import ComplianceProjection, SuggestionProjection
from reports.queue import SuggestionViews
from reports.views import ComplianceView, parse_period

EVERYTHING = 1_000_000_000  # "no page limit" for the views' paging
BATCH = 5000
"""Events handed to a projection in one call (its batched writes, as on the live feeds)."""
CACHE_KIB = 1024 * 1024
"""The scratch file's page cache (at most; SQLite takes it as it needs)."""
PAGE_BYTES = 65536
"""The scratch file's pages: large ones take the inserts of a long history in fewer, shallower
b-tree steps (a third less time, measured at 900k contacts)."""
DEFERRED_INDEXES = ("r_contacts_link",)
"""Indexes that only the views read: no statement of the projections finds rows by them (they
find contacts by their id), so they are built once every row is in, in one sorted pass, rather
than by one insert per row (half the time of writing the contacts, measured)."""


@dataclass
class Replayed:
    """The views as they stood at ``now`` (the as-of moment, or the last event's time)."""

    as_of: datetime | None
    now: datetime
    applied: dict[str, int]
    compliance: ComplianceReport
    queue: QueuePage
    members: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form: identical input gives identical output."""
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "now": self.now.isoformat(),
            "applied": dict(sorted(self.applied.items())),
            "members": dict(sorted(self.members.items())),
            "compliance": self.compliance.model_dump(mode="json"),
            "queue": self.queue.model_dump(mode="json"),
        }


def delivered(event: RecordedEvent, registry: EventRegistry) -> Delivered:
    """The event as the projections receive it; a history event that cannot be decoded is an
    :class:`AuditInputError` naming it."""
    try:
        return deliver(event, registry)
    except SpineError as exc:
        where = f"{event.service} {event.stream_id} v{event.stream_version}"
        raise AuditInputError(f"{where}: cannot be decoded: {exc}") from exc


def until(history: History, as_of: datetime | None) -> dict[str, list[RecordedEvent]]:
    """Each service's events up to (not including) its first event after ``as_of``."""
    chosen: dict[str, list[RecordedEvent]] = {}
    for service, events in history.events.items():
        kept: list[RecordedEvent] = []
        for event in events:
            if as_of is not None and event.time > as_of:
                break
            kept.append(event)
        chosen[service] = kept
    return chosen


def check_period(period: str, rule: ContactRule) -> None:
    """Refuse a malformed period before any work is done."""
    try:
        parse_period(period, rule)
    except DomainError as exc:
        raise AuditInputError(f"--period {period!r}: {exc}") from exc


Batches = AsyncIterator[tuple[str, list[RecordedEvent]]]
"""A history read in pieces: each service's events in position order, in batches."""


async def history_batches(history: History) -> Batches:
    """A history held in memory, as batches."""
    for service, events in history.events.items():
        for start in range(0, max(1, len(events)), BATCH):  # a service without events too
            yield service, events[start : start + BATCH]


async def replay(
    history: History,
    registry: EventRegistry,
    rule: ContactRule,
    period: str,
    as_of: datetime | None = None,
    db_path: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> Replayed:
    """Rebuild the projections into a scratch SQLite file and read the views from it.

    ``db_path`` keeps the rebuilt database (written under a temporary name and renamed only
    when complete); without it the scratch file is removed afterwards.
    """
    return await replay_batches(
        lambda: history_batches(history), registry, rule, period, as_of, db_path, progress
    )


async def replay_batches(
    batches: Callable[[], Batches],
    registry: EventRegistry,
    rule: ContactRule,
    period: str,
    as_of: datetime | None = None,
    db_path: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> Replayed:
    """:func:`replay` of a history read batch by batch (``batches()`` is called once, in a
    worker thread with its own event loop): only one batch is held at a time, so memory and
    the cost per event stay flat however long the history is."""
    check_period(period, rule)
    target_dir = db_path.parent if db_path else None
    if target_dir:
        target_dir.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(suffix=".sqlite", prefix=".audit-replay.", dir=target_dir)
    os.close(fd)
    try:
        # The scratch file is written through sqlite3 directly (see ScratchTx), from a thread
        # of its own so that the caller's event loop is not blocked meanwhile.
        result = await asyncio.to_thread(
            asyncio.run,
            _rebuild(Path(scratch), batches, registry, rule, period, as_of, progress),
        )
        if db_path:
            os.replace(scratch, db_path)
        return result
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scratch)


async def _rebuild(
    path: Path,
    batches: Callable[[], Batches],
    registry: EventRegistry,
    rule: ContactRule,
    period: str,
    as_of: datetime | None,
    progress: Callable[[int], None] | None,
) -> Replayed:
    projections: list[Projection] = [ComplianceProjection(), SuggestionProjection()]
    applied: dict[str, int] = {}
    ended: set[str] = set()  # services past the as-of moment
    latest = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    # Each batch's events live only while it is applied, yet they outlive the young
    # generations and set off collections that walk them and every older object again.
    tx = ScratchTx(db)
    with collector_paused(), contextlib.closing(db), contextlib.closing(tx):
        # A scratch file, written in one transaction and kept only once complete: no journal
        # is needed, and a large page cache keeps the indexes' inserts off the disk.
        db.execute(f"PRAGMA page_size = {PAGE_BYTES}")  # (before the first table)
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute(f"PRAGMA cache_size = {-CACHE_KIB}")
        await tx.execute("BEGIN")
        for projection in projections:
            await projection.setup(tx)
        deferred = await _drop_indexes(tx, DEFERRED_INDEXES)
        async for service, records in batches():
            if service in ended:
                continue
            kept = records
            if as_of is not None and records and records[-1].time > as_of:
                # Up to (not including) the service's first event after the as-of moment.
                cut = next(i for i, e in enumerate(records) if e.time > as_of)
                kept = records[:cut]
                ended.add(service)
            try:
                batch = [deliver(e, registry) for e in kept]
            except SpineError:  # again, one by one, to name the event that cannot be decoded
                batch = [delivered(e, registry) for e in kept]
            applied[service] = applied.get(service, 0) + len(batch)
            if kept:
                latest = max(latest, max(e.time for e in kept))
            for projection in projections:
                if service in projection.services:
                    await apply_all(projection, tx, batch)
            if progress:
                progress(len(batch))
        for index in deferred:
            await tx.execute(index)
        await tx.execute("COMMIT")
        now = as_of or latest
        view = ComplianceView(tx, rule)
        report = await view.report(period, now.date(), limit=EVERYTHING)
        queue = await SuggestionViews(tx, DeadlineSettings().deadline_policy(), view).queue(
            now, limit=EVERYTHING
        )
        rows = await tx.fetch("SELECT status, count(*) FROM r_members GROUP BY status")
        members = {str(r[0]): int(r[1]) for r in rows}
    return Replayed(as_of, now, applied, report, queue, members)


async def _drop_indexes(tx: ScratchTx, names: tuple[str, ...]) -> list[str]:
    """Drop the named indexes the projections made; the statements that make them again."""
    marks = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    rows = await tx.fetch(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ({marks})", *names
    )
    for name, _ in rows:
        await tx.execute(f'DROP INDEX "{name}"')
    return [str(sql) for _, sql in rows]
