"""The in-process bus of the embedded default: projections fed straight from local stores.

It offers projections the same interface as the Kafka runner (:class:`Projection`, a ``Tx``,
each event decoded and upcast by its store's registry), writing their rows and the positions
they consumed in one SQLite transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections.abc import Sequence
from typing import Any

import aiosqlite

from eventspine.projection import Decoder, FetchingTx, Projection, apply_all, deferring
from eventspine.store.base import EventStore

_PARAM = re.compile(r"\$(\d+)")


@functools.lru_cache(maxsize=1024)
def sqlite_params(query: str) -> str:
    """``query`` with PostgreSQL's ``$n`` parameters as SQLite's ``?n`` (cached: projections
    send the same few statements for every event)."""
    return _PARAM.sub(r"?\1", query)


class SqliteTx(FetchingTx):
    """A :class:`~eventspine.projection.Tx` over an aiosqlite connection (``$n`` -> ``?n``)."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    @staticmethod
    def _sql(query: str) -> str:
        return sqlite_params(query)

    async def execute(self, query: str, *args: Any) -> Any:
        """Run a statement."""
        await self.db.execute(self._sql(query), args)

    async def executemany(self, command: str, args: Any) -> None:
        """Run a statement once per argument tuple."""
        await self.db.executemany(self._sql(command), args)

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        """Rows of a query (``sqlite3.Row``: by index or by name)."""
        async with self.db.execute(self._sql(query), args) as cursor:
            return list(await cursor.fetchall())


class InProcessBus:
    """Delivers the events of in-process stores to projections kept in one SQLite file."""

    def __init__(
        self,
        stores: Sequence[EventStore],
        projections: Sequence[Projection],
        path: str,
        *,
        batch_size: int = 500,
        idle_seconds: float = 0.05,
    ) -> None:
        self.stores = {store.service: store for store in stores}
        self.decoders = {store.service: Decoder(store.registry) for store in stores}
        self.projections = list(projections)
        self.path = path
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self._db: aiosqlite.Connection | None = None
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()  # one delivery at a time: they share one connection
        for store in stores:
            store.subscribe(lambda _events: self._wake.set())

    @property
    def db(self) -> aiosqlite.Connection:
        """The projections' database."""
        if self._db is None:
            raise RuntimeError("the bus is not open")
        return self._db

    async def open(self) -> None:
        """Open the projections' database and create the tables."""
        self._db = await aiosqlite.connect(self.path, isolation_level=None)
        self._db.row_factory = aiosqlite.Row
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=FULL")
        await self._db.execute(
            "CREATE TABLE IF NOT EXISTS projection_positions (projection TEXT NOT NULL, "
            "service TEXT NOT NULL, last_position INTEGER NOT NULL, "
            "PRIMARY KEY (projection, service))"
        )
        for projection in self.projections:
            await projection.setup(SqliteTx(self._db))

    async def close(self) -> None:
        """Close the projections' database."""
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def reset(self, projection: Projection) -> None:
        """Empty a projection and its positions: the next delivery rebuilds it from the start."""
        async with self._lock:  # not inside a delivery's transaction on the same connection
            tx = SqliteTx(self.db)
            await tx.execute("BEGIN IMMEDIATE")
            await projection.reset(tx)
            await tx.execute(
                "DELETE FROM projection_positions WHERE projection = $1", projection.name
            )
            await tx.execute("COMMIT")

    async def _position(self, projection: Projection, service: str) -> int:
        value = await SqliteTx(self.db).fetchval(
            "SELECT last_position FROM projection_positions WHERE projection = $1 AND service = $2",
            projection.name,
            service,
        )
        return int(value or 0)

    async def deliver(self) -> int:
        """Deliver one batch per projection and service; return how many events were applied."""
        async with self._lock:
            return await self._deliver()

    async def _deliver(self) -> int:
        applied = 0
        tx = SqliteTx(self.db)
        for projection in self.projections:
            for service in projection.services:
                store = self.stores.get(service)
                if store is None:
                    continue
                events = self.decoders[service].decode(
                    await store.read_all(await self._position(projection, service), self.batch_size)
                )
                if not events:
                    continue
                await tx.execute("BEGIN IMMEDIATE")
                try:
                    await apply_all(projection, tx, events)
                    await tx.execute(
                        "INSERT INTO projection_positions (projection, service, last_position) "
                        "VALUES ($1, $2, $3) ON CONFLICT (projection, service) DO UPDATE "
                        "SET last_position = excluded.last_position",
                        projection.name,
                        service,
                        events[-1].position,
                    )
                except BaseException:
                    await tx.execute("ROLLBACK")
                    raise
                await tx.execute("COMMIT")
                applied += len(events)
        return applied

    async def behind(self) -> int:
        """Events in the stores that some projection has not applied yet (and 1 for each
        projection with work put off until it caught up)."""
        missing = 0
        for projection in self.projections:
            for service in projection.services:
                store = self.stores.get(service)
                if store is not None:
                    head = await store.head_position()
                    missing += max(0, head - await self._position(projection, service))
            put_off = deferring(projection)
            if put_off is not None and await put_off.pending(SqliteTx(self.db)):
                missing += 1  # caught up with the stores, not yet with the work it put off
        return missing

    async def drain(self) -> int:
        """Deliver until every projection has caught up; return the number applied."""
        total = 0
        while applied := await self.deliver():
            total += applied
        await self.caught_up()
        return total

    async def caught_up(self) -> None:
        """Nothing new in the stores: let each projection do the work it put off, if any."""
        async with self._lock:
            tx = SqliteTx(self.db)
            for projection in self.projections:
                put_off = deferring(projection)
                if put_off is None or not await put_off.pending(tx):
                    continue
                await tx.execute("BEGIN IMMEDIATE")
                try:
                    await put_off.caught_up(tx)
                except BaseException:
                    await tx.execute("ROLLBACK")
                    raise
                await tx.execute("COMMIT")

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver continuously until ``stop`` is set."""
        while not stop.is_set():
            if await self.deliver():
                continue
            await self.caught_up()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.idle_seconds)
