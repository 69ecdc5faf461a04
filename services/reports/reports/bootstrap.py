"""The reports service's composition root: projections, their feed, views, clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from compliance import ContactRule
from eventspine.bus import InProcessBus, SqliteTx
from eventspine.config import Settings
from eventspine.consumer import ProjectionRunner
from eventspine.kafka import ensure_topics, make_consumer
from eventspine.projection import Projection, Tx
from eventspine.replica import Feed, Feeds, KafkaFeed, LocalFeed
from eventspine.schemas import installed_registry
from eventspine.store.base import utc_now
from eventspine.store.postgres import checked_schema, connect_pool
from eventspine.store.sqlite import SqliteEventStore
from feedback.settings import FeedbackSettings
from reports.compliance import ComplianceProjection
from reports.queue import SuggestionViews
from reports.suggestions import SuggestionProjection
from reports.views import ComplianceView

SERVICE = "reports"


@dataclass
class Reports:
    """The wired reports service."""

    views: ComplianceView
    suggestions: SuggestionViews
    feed: Feed
    clock: Callable[[], datetime]
    last_event_time: Callable[[], Awaitable[datetime | None]]
    close: Callable[[], Awaitable[None]]

    async def catch_up(self) -> int:
        """Projections are fed in the background; nothing to do at start."""
        return 0


def contact_rule(settings: Settings) -> ContactRule:
    """The contact rule, from the same settings the contacts service reads."""
    return ContactRule.model_validate(
        {"minimum": settings.contact_minimum, "period_months": settings.contact_period_months}
    )


async def build(settings: Settings, clock: Callable[[], datetime] = utc_now) -> Reports:
    """Start the projections on the settings' backend and answer from them."""
    if settings.store_backend == "postgres":
        return await _postgres(settings, clock)
    return await _sqlite(settings, clock)


def _views(
    reader: Tx, settings: Settings, prefix: str = ""
) -> tuple[ComplianceView, SuggestionViews]:
    compliance = ComplianceView(reader, contact_rule(settings), prefix)
    # The feedback service's own deadline policy: the queue shows the deadlines that escalate.
    deadlines = FeedbackSettings().deadline_policy()
    return compliance, SuggestionViews(reader, deadlines, compliance, prefix)


async def _postgres(settings: Settings, clock: Callable[[], datetime]) -> Reports:
    schema = checked_schema(settings.store_schema(SERVICE))
    pool = await connect_pool(settings.pg_dsn, max_size=settings.pg_pool_size)
    prefix = f"{schema}."
    runners = []
    for projection in (ComplianceProjection(prefix), SuggestionProjection(prefix)):
        topics = [settings.topic(service) for service in projection.services]
        await ensure_topics(settings, topics)
        runners.append(
            ProjectionRunner(
                projection,
                pool,
                lambda group, names: make_consumer(settings, group, *names),
                topics,
                schema=schema,
                batch_size=settings.consumer_batch_size,
                group_prefix=settings.topic_prefix,
            )
        )
    feed = Feeds([KafkaFeed(runner) for runner in runners])
    await feed.start()

    async def close() -> None:
        await feed.stop()
        await pool.close()

    async def last_event_time() -> datetime | None:
        times = [t for r in runners if (t := await r.last_event_time()) is not None]
        return min(times, default=None)

    return Reports(*_views(pool, settings, prefix), feed, clock, last_event_time, close)


async def _sqlite(settings: Settings, clock: Callable[[], datetime]) -> Reports:
    registry = installed_registry()
    folder = Path(settings.sqlite_dir)
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at start-up
    projections: list[Projection] = [ComplianceProjection(), SuggestionProjection()]
    stores = [
        SqliteEventStore(str(folder / f"{service}-events.sqlite"), service, registry)
        for service in ("roster", "contacts", "feedback")
    ]
    for store in stores:
        await store.open()
    bus = InProcessBus(stores, projections, str(folder / "reports.sqlite"))
    feed = LocalFeed(bus)
    await feed.start()

    async def close() -> None:
        await feed.stop()
        for store in stores:
            await store.close()

    async def last_event_time() -> datetime | None:
        return None

    return Reports(*_views(SqliteTx(bus.db), settings), feed, clock, last_event_time, close)
