"""Replay: rebuild the reports' projections from a history, optionally as of a moment.

The projections are the reports service's own (:class:`ComplianceProjection`,
:class:`SuggestionProjection`), applied in position order per service into a scratch SQLite
file, so the auditor sees exactly what the service computes, from the history alone. They
receive what every live feed gives them (:func:`eventspine.projection.deliver`): each event
decoded by the registry, so an event stored in an older schema version arrives upcast, as it
does on the service's own feeds.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from audit.sources import AuditInputError, History
from compliance import ContactRule
from escalation import DeadlineSettings
from eventspine.bus import SqliteTx
from eventspine.envelope import RecordedEvent
from eventspine.errors import DomainError, SpineError
from eventspine.events import EventRegistry
from eventspine.projection import Delivered, Projection, deliver
from reports.models import ComplianceReport, QueuePage
from reports.projections import ComplianceProjection, SuggestionProjection
from reports.queue import SuggestionViews
from reports.views import ComplianceView, parse_period

EVERYTHING = 1_000_000_000  # "no page limit" for the views' paging


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
    check_period(period, rule)
    events = until(history, as_of)
    decoded = {s: [delivered(e, registry) for e in evs] for s, evs in events.items()}
    times = [e.time for evs in decoded.values() for e in evs]
    now = as_of or max(times, default=datetime.fromisoformat("2000-01-01T00:00:00+00:00"))
    target_dir = db_path.parent if db_path else None
    if target_dir:
        target_dir.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(suffix=".sqlite", prefix=".audit-replay.", dir=target_dir)
    os.close(fd)
    try:
        result = await _rebuild(Path(scratch), decoded, rule, period, as_of, now, progress)
        if db_path:
            os.replace(scratch, db_path)
        return result
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scratch)


async def _rebuild(
    path: Path,
    events: dict[str, list[Delivered]],
    rule: ContactRule,
    period: str,
    as_of: datetime | None,
    now: datetime,
    progress: Callable[[int], None] | None,
) -> Replayed:
    projections: list[Projection] = [ComplianceProjection(), SuggestionProjection()]
    applied: dict[str, int] = {service: len(evs) for service, evs in events.items()}
    async with aiosqlite.connect(str(path), isolation_level=None) as db:
        tx = SqliteTx(db)
        await tx.execute("BEGIN")
        for projection in projections:
            await projection.setup(tx)
            for service in projection.services:
                for event in events.get(service, []):
                    await projection.apply(tx, event)
                    if progress:
                        progress(1)
        await tx.execute("COMMIT")
        view = ComplianceView(tx, rule)
        report = await view.report(period, now.date(), limit=EVERYTHING)
        queue = await SuggestionViews(tx, DeadlineSettings().deadline_policy(), view).queue(
            now, limit=EVERYTHING
        )
        rows = await tx.fetch("SELECT status, count(*) FROM r_members GROUP BY status")
        members = {str(r[0]): int(r[1]) for r in rows}
    return Replayed(as_of, now, applied, report, queue, members)
