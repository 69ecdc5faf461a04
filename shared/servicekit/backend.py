"""The one backend seam of the composition roots: a service's store, keys and read models,
on the backend the settings name.

A composition root asks :func:`open_backend` for its service's backend and then for its read
models (:meth:`Backend.read_models`), without forking on PostgreSQL vs SQLite:

- **PostgreSQL** (the full topology): the store and the key vault in the service's schema;
  projections of the service's own events follow its store (:class:`PostgresFollower`),
  projections of other services' events consume their Kafka topics; every read model lives in
  the service's schema, read through the store's pool.
- **SQLite** (the embedded default): ``<service>-events.sqlite`` and ``<service>-keys.sqlite``
  under ``SANLIAN_SQLITE_DIR``; the read models of one call share one file
  (``<service>-<name>.sqlite``), fed by an in-process bus from the store files they read
  (other services' files are only read).
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from eventspine.bus import InProcessBus, SqliteTx
from eventspine.clock import utc_now
from eventspine.config import Settings
from eventspine.crypto import PersonalDataVault, PostgresKeyStore, SqliteKeyStore
from eventspine.follower import PostgresFollower
from eventspine.projection import Projection, Tx
from eventspine.replica import Feed, Feeds, LocalFeed, kafka_feed
from eventspine.schemas import installed_registry
from eventspine.store.base import EventStore
from eventspine.store.postgres import PostgresEventStore
from eventspine.store.sqlite import SqliteEventStore

Close = Callable[[], Awaitable[None]]


class NoFeed:
    """The feed of read models that follow only the service's own store: nothing to wait for
    beyond the service's own catch-up."""

    async def start(self) -> None:
        """Nothing runs."""

    async def stop(self) -> None:
        """Nothing runs."""

    async def behind(self) -> int:
        """Never behind another service."""
        return 0

    async def catch_up(self, seconds: float) -> bool:
        """Always caught up."""
        return True


@dataclass(frozen=True)
class ReadModels:
    """Where a group of projections keeps its rows, and how to bring them up to date."""

    reader: Tx
    """Reads the projections' tables (the pool, or the group's SQLite file)."""
    prefix: str
    """What table names are prefixed with in ``reader`` (``"<schema>."`` or ``""``)."""
    catch_up: Callable[[], Awaitable[int]]
    """Applies the service's own stored events now (read-your-writes after a command)."""
    feed: Feed
    """Delivers other services' events (Kafka, or the bus over their store files)."""


class Backend(abc.ABC):
    """One service's store, key vault and read models on one backend."""

    def __init__(self, settings: Settings, service: str, store: EventStore) -> None:
        self.settings = settings
        self.service = service
        self.store = store
        self._closers: list[Close] = []

    @property
    @abc.abstractmethod
    def vault(self) -> PersonalDataVault:
        """The service's personal-data vault (a key per subject)."""

    @property
    @abc.abstractmethod
    def prefix(self) -> str:
        """The table-name prefix of the service's read models (``"<schema>."`` or ``""``)."""

    @property
    @abc.abstractmethod
    def local(self) -> bool:
        """Whether other services' events are read from local files (cheap to catch up)."""

    @abc.abstractmethod
    async def read_models(self, *projections: Projection, name: str = "view") -> ReadModels:
        """Start ``projections`` together (one SQLite file ``<service>-<name>.sqlite`` on the
        embedded backend; the service's schema on PostgreSQL)."""

    def on_close(self, close: Close) -> None:
        """Run ``close`` when the backend closes (before what was opened earlier)."""
        self._closers.append(close)

    async def close(self) -> None:
        """Stop the feeds and release everything, the most recently opened first."""
        while self._closers:
            await self._closers.pop()()


class PostgresBackend(Backend):
    """The full topology: the service's schema, its own events by the follower, others' by
    Kafka."""

    def __init__(
        self, settings: Settings, service: str, store: PostgresEventStore, keys: PostgresKeyStore
    ) -> None:
        super().__init__(settings, service, store)
        self.pg_store = store
        self._vault = PersonalDataVault(keys)

    @property
    def vault(self) -> PersonalDataVault:
        return self._vault

    @property
    def prefix(self) -> str:
        return f"{self.pg_store.schema}."

    @property
    def local(self) -> bool:
        return False

    async def read_models(self, *projections: Projection, name: str = "view") -> ReadModels:
        own = [p for p in projections if tuple(p.services) == (self.service,)]
        others = [p for p in projections if tuple(p.services) != (self.service,)]
        catch_up: Callable[[], Awaitable[int]] = _nothing
        if own:
            follower = PostgresFollower(self.pg_store, own)
            await follower.setup()
            catch_up = follower.catch_up
        feed: Feed = NoFeed()
        if others:
            schema = self.pg_store.schema
            feeds: list[Feed] = [
                await kafka_feed(self.settings, p, self.pg_store.pool, schema) for p in others
            ]
            feed = feeds[0] if len(feeds) == 1 else Feeds(feeds)
            await feed.start()
            self.on_close(feed.stop)
        return ReadModels(self.pg_store.pool, self.prefix, catch_up, feed)


class SqliteBackend(Backend):
    """The embedded default: files under ``SANLIAN_SQLITE_DIR``, an in-process bus per group
    of read models."""

    def __init__(
        self, settings: Settings, service: str, store: SqliteEventStore, keys: SqliteKeyStore
    ) -> None:
        super().__init__(settings, service, store)
        self.folder = Path(settings.sqlite_dir)
        self._vault = PersonalDataVault(keys)

    @property
    def vault(self) -> PersonalDataVault:
        return self._vault

    @property
    def prefix(self) -> str:
        return ""

    @property
    def local(self) -> bool:
        return True

    async def _source(self, service: str) -> EventStore:
        if service == self.service:
            return self.store
        # Another service's store file, only read here (its own service appends).
        path = str(self.folder / f"{service}-events.sqlite")
        other = SqliteEventStore(path, service, installed_registry())
        await other.open()
        self.on_close(other.close)
        return other

    async def read_models(self, *projections: Projection, name: str = "view") -> ReadModels:
        services = list(dict.fromkeys(s for p in projections for s in p.services))
        stores = [await self._source(service) for service in services]
        bus = InProcessBus(stores, projections, str(self.folder / f"{self.service}-{name}.sqlite"))
        feed: Feed
        if services == [self.service]:
            await bus.open()
            self.on_close(bus.close)
            feed = NoFeed()
        else:
            feed = LocalFeed(bus)  # opens the bus, delivers in the background, closes it
            await feed.start()
            self.on_close(feed.stop)
        return ReadModels(SqliteTx(bus.db), "", bus.drain, feed)


async def _nothing() -> int:
    return 0


async def open_backend(
    settings: Settings, service: str, clock: Callable[[], datetime] = utc_now
) -> Backend:
    """The store and key vault of ``service`` on the backend the settings name, opened."""
    if settings.store_backend == "postgres":
        store, keys, _ = await open_postgres(settings, service, clock)
        pg = PostgresBackend(settings, service, store, keys)
        pg.on_close(store.close)
        pg.on_close(keys.close)
        return pg
    folder = Path(settings.sqlite_dir)
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at start-up
    sqlite_store = SqliteEventStore(
        str(folder / f"{service}-events.sqlite"), service, installed_registry(), clock=clock
    )
    await sqlite_store.open()
    sqlite_keys = SqliteKeyStore(str(folder / f"{service}-keys.sqlite"))
    await sqlite_keys.open()
    local = SqliteBackend(settings, service, sqlite_store, sqlite_keys)
    local.on_close(sqlite_store.close)
    local.on_close(sqlite_keys.close)
    return local


async def open_postgres(
    settings: Settings, service: str, clock: Callable[[], datetime]
) -> tuple[PostgresEventStore, PostgresKeyStore, PersonalDataVault]:
    """The service's PostgreSQL store in its schema, and the vault whose keys live beside it
    (for the tools that need the store itself, such as the migration and the benchmarks)."""
    store = PostgresEventStore(
        settings.pg_dsn,
        service,
        installed_registry(),
        schema=settings.store_schema(service),
        clock=clock,
        pool_size=settings.pg_pool_size,
    )
    await store.open()
    keys = PostgresKeyStore(store.pool, store.schema)
    await keys.open()
    return store, keys, PersonalDataVault(keys)
