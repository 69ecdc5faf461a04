"""A service's own read models follow its store: commands that ask to catch up while a pass
runs share the next pass, and each still reads its own write when its call returns."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eventspine.follower import PostgresFollower
from eventspine.projection import Tx
from eventspine.store.base import CommandContext
from eventspine.store.postgres import PostgresEventStore
from support.sample import assigned

pytestmark = pytest.mark.integration

CTX = CommandContext(actor="staff:test")
COMMANDS = 40


class Streams:
    """Records each stream it is given, and counts the follower's transactions (each locks the
    position row, and the follower applies in each, events or none)."""

    services = ("roster",)

    def __init__(self, table: str) -> None:
        self.table = table
        self.name = "test-streams"
        self.passes = 0

    async def setup(self, tx: Tx) -> None:
        await tx.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (stream_id text PRIMARY KEY)")

    async def reset(self, tx: Tx) -> None:
        await tx.execute(f"TRUNCATE {self.table}")

    async def apply_many(self, tx: Tx, events: list[Any]) -> None:
        self.passes += 1
        await tx.executemany(
            f"INSERT INTO {self.table} VALUES ($1)", [(d.record.stream_id,) for d in events]
        )

    async def apply(self, tx: Tx, delivered: Any) -> None:
        await self.apply_many(tx, [delivered])


async def test_commands_catching_up_at_once_share_passes_and_each_reads_its_write(
    pg_store: PostgresEventStore,
) -> None:
    projection = Streams(f"{pg_store.schema}.followed_streams")
    follower = PostgresFollower(pg_store, [projection])
    await follower.setup()

    async def command(n: int) -> bool:
        await pg_store.append(f"member-{n}", 0, [assigned()], CTX)
        await follower.catch_up()
        row = await pg_store.pool.fetchval(
            f"SELECT 1 FROM {projection.table} WHERE stream_id = $1", f"member-{n}"
        )
        return bool(row == 1)

    seen = await asyncio.gather(*(command(n) for n in range(COMMANDS)))
    assert all(seen)
    # A pass per command would be 40 transactions at least (each a lock of the position
    # row); those waiting behind a pass share the next.
    assert projection.passes < COMMANDS / 2, projection.passes
    assert await follower.catch_up() == 0


class Counted(Streams):
    """Puts off a count of its rows until the follower has caught up (as the compliance
    aggregates put off their work in a rebuild)."""

    def __init__(self, table: str) -> None:
        super().__init__(table)
        self.counts = f"{table}_count"

    async def setup(self, tx: Tx) -> None:
        await super().setup(tx)
        await tx.execute(f"CREATE TABLE IF NOT EXISTS {self.counts} (n integer)")

    async def pending(self, reader: Tx) -> bool:
        return bool(await reader.fetchval(f"SELECT count(*) FROM {self.counts}") == 0)

    async def caught_up(self, tx: Tx) -> None:
        await tx.execute(f"INSERT INTO {self.counts} SELECT count(*) FROM {self.table}")


async def test_the_follower_lets_a_projection_do_its_put_off_work_once_caught_up(
    pg_store: PostgresEventStore,
) -> None:
    projection = Counted(f"{pg_store.schema}.counted_streams")
    follower = PostgresFollower(pg_store, [projection], batch_size=10)
    await follower.setup()
    for n in range(25):  # three batches: the count waits for the last
        await pg_store.append(f"member-{n}", 0, [assigned()], CTX)
    assert await follower.catch_up() == 25
    counted = await pg_store.pool.fetch(f"SELECT n FROM {projection.counts}")
    assert [tuple(row) for row in counted] == [(25,)]
    assert projection.passes == 3
