"""The feedback service's composition root: store, keys, read model, roster replica, scheduler.

Full topology (``postgres``): the store, key store, read model and roster replica live in the
service's own schema; the replica is fed from the roster topic on Kafka. Embedded default
(``sqlite``): files in ``sqlite_dir``, the replica fed straight from the roster's SQLite store.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

from access.revocations import RevokedTokensReader
from access.tree import LinkTree
from eventspine.bus import InProcessBus, SqliteTx
from eventspine.config import Settings
from eventspine.crypto import PersonalDataVault, SqliteKeyStore
from eventspine.follower import PostgresFollower
from eventspine.projection import Tx
from eventspine.replica import Feed, LocalFeed, kafka_feed
from eventspine.schemas import installed_registry
from eventspine.store.base import EventStore, utc_now
from eventspine.store.sqlite import SqliteEventStore
from feedback.handlers import FeedbackService
from feedback.projections import FeedbackProjection
from feedback.queries import FeedbackQueries
from feedback.replica import Chain, RosterReplica
from feedback.scheduler import DeadlineScheduler
from feedback.settings import FeedbackSettings
from servicekit.service import open_postgres

SERVICE = "feedback"


@dataclass
class Feedback:
    """The wired feedback service."""

    store: EventStore
    service: FeedbackService
    queries: FeedbackQueries
    scheduler: DeadlineScheduler
    feed: Feed
    settings: FeedbackSettings
    chain: Chain
    tree: LinkTree
    revocations: RevokedTokensReader
    catch_up: Callable[[], Awaitable[int]]
    close: Callable[[], Awaitable[None]]


class _Forgetting:
    """When the roster forgets a member, shred the suggestions they raised or that were raised
    for them: destroy each suggestion's key, and drop the texts from the read model."""

    def __init__(self) -> None:
        self.vault: PersonalDataVault | None = None
        self.view: FeedbackProjection | None = None
        self.reader: Tx | None = None
        self.queries: FeedbackQueries | None = None
        self.catch_up: Callable[[], Awaitable[int]] | None = None

    async def __call__(self, member_id: UUID) -> None:
        assert self.vault is not None, "wired by build()"
        assert self.view is not None
        assert self.reader is not None
        assert self.queries is not None
        assert self.catch_up is not None
        await self.catch_up()  # the read model must know every suggestion stored so far
        for suggestion_id in await self.queries.raised_ids(member_id):
            await self.vault.forget(suggestion_id)
            await self.view.wipe(self.reader, suggestion_id)


async def build(
    settings: Settings,
    clock: Callable[[], datetime] = utc_now,
    feedback_settings: FeedbackSettings | None = None,
) -> Feedback:
    """Open the feedback service on the backend the settings name, and start its replica feed."""
    config = feedback_settings or FeedbackSettings()
    policy = config.deadline_policy()
    registry = installed_registry()
    forgetting = _Forgetting()
    store: EventStore
    feed: Feed
    if settings.store_backend == "postgres":
        pg_store, keys, vault = await open_postgres(settings, SERVICE, clock)
        store = pg_store
        prefix = f"{pg_store.schema}."
        view = FeedbackProjection(vault, policy, prefix)
        follower = PostgresFollower(pg_store, [view])
        await follower.setup()
        reader: Tx = pg_store.pool
        catch_up = follower.catch_up
        feed = await kafka_feed(
            settings, RosterReplica(prefix, forgetting), pg_store.pool, pg_store.schema
        )
        await feed.start()
        chain = Chain(pg_store.pool, prefix)
        queries = FeedbackQueries(pg_store.pool, prefix)

        async def close() -> None:
            await feed.stop()
            await keys.close()
            await pg_store.close()

    else:
        folder = Path(settings.sqlite_dir)
        folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at start-up
        sqlite_store = SqliteEventStore(
            str(folder / "feedback-events.sqlite"), SERVICE, registry, clock=clock
        )
        await sqlite_store.open()
        store = sqlite_store
        sqlite_keys = SqliteKeyStore(str(folder / "feedback-keys.sqlite"))
        await sqlite_keys.open()
        vault = PersonalDataVault(sqlite_keys)
        view = FeedbackProjection(vault, policy)
        bus = InProcessBus([store], [view], str(folder / "feedback-view.sqlite"))
        await bus.open()
        reader = SqliteTx(bus.db)
        catch_up = bus.drain
        # The roster's own file, read only through the store's reads (the roster appends).
        roster_store = SqliteEventStore(str(folder / "roster-events.sqlite"), "roster", registry)
        await roster_store.open()
        replica_bus = InProcessBus(
            [roster_store], [RosterReplica("", forgetting)], str(folder / "feedback-replica.sqlite")
        )
        feed = LocalFeed(replica_bus)
        await feed.start()
        chain = Chain(SqliteTx(replica_bus.db))
        queries = FeedbackQueries(reader)

        async def close() -> None:
            await feed.stop()
            await roster_store.close()
            await bus.close()
            await sqlite_keys.close()
            await sqlite_store.close()

    forgetting.vault, forgetting.view, forgetting.reader = vault, view, reader
    forgetting.queries, forgetting.catch_up = queries, catch_up
    service = FeedbackService(
        store,
        vault,
        chain,
        feed,
        policy=policy,
        departments=config.departments,
        clock=clock,
        replica_wait_seconds=config.replica_wait_seconds,
        cheap_catch_up=isinstance(feed, LocalFeed),
    )
    scheduler = DeadlineScheduler(
        service, queries, catch_up, clock, interval_seconds=config.scheduler_interval_seconds
    )
    tree = LinkTree(
        chain.reader,
        f"SELECT upper_member_id, member_id FROM {chain.p}replica_members "
        "WHERE upper_member_id IS NOT NULL AND status = 'active'",
    )
    revocations = RevokedTokensReader(chain.reader, chain.p)  # kept by the roster replica
    return Feedback(
        store, service, queries, scheduler, feed, config, chain, tree, revocations, catch_up, close
    )
