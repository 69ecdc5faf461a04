"""A service's own read models, fed straight from its PostgreSQL store (no Kafka in between).

A service that answers queries about its own aggregates (the roster's unit tree, say) follows
its store: rows and the position consumed are written in one transaction, so nothing is
applied twice or skipped, and a replica that appended can ``catch_up()`` before answering
(read-your-writes). Several replicas may follow at once: the position row is locked. Events
are decoded (and upcast) by the store's registry, once however many projections follow it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from eventspine.projection import Decoder, Projection, Tx, apply_all, deferring
from eventspine.store.migration import run_migration
from eventspine.store.postgres import PostgresEventStore


class PostgresFollower:
    """Applies a PostgreSQL store's events to projections kept in the same database."""

    def __init__(
        self,
        store: PostgresEventStore,
        projections: Sequence[Projection],
        *,
        batch_size: int = 500,
        idle_seconds: float = 0.2,
    ) -> None:
        self.store = store
        self.projections = list(projections)
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.table = f"{store.schema}.projection_positions"
        self.decoder = Decoder(store.registry)
        self._lock = asyncio.Lock()
        self._asked = 0
        """Calls of :meth:`catch_up` so far (each one's ticket)."""
        self._covered = 0
        """The tickets taken before the last finished pass began: that pass read their events."""

    async def setup(self) -> None:
        """Create the position table and the projections' tables."""

        async def step(conn: Tx) -> None:
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (projection text PRIMARY KEY, "
                "last_position bigint NOT NULL)"
            )
            for projection in self.projections:
                await projection.setup(conn)
                await conn.execute(
                    f"INSERT INTO {self.table} VALUES ($1, 0) ON CONFLICT DO NOTHING",
                    projection.name,
                )

        await run_migration(self.store.pool, step)

    async def rebuild(self, projection: Projection) -> None:
        """Empty a projection; the next catch-up replays the whole store into it."""
        async with self.store.pool.acquire() as conn, conn.transaction():
            await projection.reset(conn)
            await conn.execute(
                f"UPDATE {self.table} SET last_position = 0 WHERE projection = $1", projection.name
            )

    async def _step(self, projection: Projection) -> int:
        async with self.store.pool.acquire() as conn, conn.transaction():
            stored = await self.store.take_following(
                conn, self.table, projection.name, self.batch_size
            )
            events = self.decoder.decode(stored)
            await apply_all(projection, conn, events)
            return len(events)

    async def catch_up(self) -> int:
        """Apply everything stored before the call; return how many events this call applied.

        Calls that arrive while a pass runs wait for it and share one pass after it (it starts
        after their events were stored, so it reads them): under load, each command would
        otherwise queue for a pass of its own, a transaction that locks the position row,
        which every other replica of the service waits for."""
        self._asked += 1
        ticket = self._asked
        total = 0
        async with self._lock:
            if self._covered >= ticket:
                return 0  # a pass that began after this call has applied its events
            began = self._asked
            # A batch for each projection in turn: those level with each other share the
            # decoded batch. A batch shorter than the limit read everything stored so far,
            # the callers' events among them: no last, empty pass to prove it.
            while True:
                applied = [await self._step(p) for p in self.projections]
                total += sum(applied)
                if all(count < self.batch_size for count in applied):
                    break
            await self._caught_up()
            self._covered = began
        return total

    async def _caught_up(self) -> None:
        """Every projection has read what was stored: let each do the work it put off."""
        for projection in self.projections:
            put_off = deferring(projection)
            if put_off is None or not await put_off.pending(self.store.pool):
                continue
            async with self.store.pool.acquire() as conn, conn.transaction():
                await put_off.caught_up(conn)

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the store until ``stop`` is set (for changes made by other replicas)."""
        while not stop.is_set():
            await self.catch_up()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.idle_seconds)
