"""A process starting (creating its tables) while others write never fails their writes.

Found in the fault tier's kill loop: a restarted service's idempotent DDL (``CREATE INDEX IF NOT
EXISTS`` takes SHARE on the table, a trigger statement ACCESS EXCLUSIVE) and a running append
(ACCESS SHARE while it read the head, then ROW EXCLUSIVE to insert) formed a cycle; PostgreSQL
failed the append with a deadlock, so a raised suggestion was refused.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from eventspine.events import EventRegistry
from eventspine.store.base import CommandContext
from eventspine.store.migration import ddl_step, run_migration
from eventspine.store.postgres import PostgresEventStore
from support.sample import assigned

pytestmark = pytest.mark.integration

CTX = CommandContext(actor="staff:test")


async def test_a_store_opening_takes_no_lock_on_the_events_of_a_running_one(
    pg_dsn: str, pg_schema: str, pg_store: PostgresEventStore, registry: EventRegistry
) -> None:
    await pg_store.append("member-0", 0, [assigned()], CTX)
    writer = await asyncpg.connect(pg_dsn)
    starting = PostgresEventStore(pg_dsn, "roster", registry, schema=pg_schema, pool_size=2)
    try:
        async with writer.transaction():
            # An append reading its stream's head: ACCESS SHARE on the events, held to commit.
            await writer.fetchval(f"SELECT max(position) FROM {pg_schema}.events")
            # The old set-up waited here (its trigger statement behind the writer's lock).
            await asyncio.wait_for(starting.open(), timeout=5)
            await writer.execute(f"LOCK TABLE {pg_schema}.events IN ROW EXCLUSIVE MODE")
        stored = await starting.append("member-1", 0, [assigned()], CTX)
        assert stored[0].position == 2
    finally:
        await writer.close()
        await starting.close()


async def test_a_set_up_waiting_behind_a_long_write_lets_the_other_writers_through(
    pg_dsn: str, pg_schema: str
) -> None:
    # Without giving way, a set-up waiting for its SHARE lock behind one long write transaction
    # queues every later writer behind itself until that transaction ends.
    admin = await asyncpg.connect(pg_dsn)
    long_writer = await asyncpg.connect(pg_dsn)
    writer = await asyncpg.connect(pg_dsn)
    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=2)
    table = f"{pg_schema}.rows"
    await admin.execute(f"CREATE SCHEMA {pg_schema}; CREATE TABLE {table} (n integer)")
    try:
        async with long_writer.transaction():
            await long_writer.execute(f"INSERT INTO {table} VALUES (1)")
            migrating = asyncio.create_task(
                run_migration(pool, ddl_step(f"CREATE INDEX IF NOT EXISTS rows_n ON {table} (n)"))
            )
            await asyncio.sleep(0.1)
            # Goes through while the long transaction is still open.
            await asyncio.wait_for(writer.execute(f"INSERT INTO {table} VALUES (2)"), timeout=5)
            assert not migrating.done()
        await asyncio.wait_for(migrating, timeout=10)
        assert await admin.fetchval(f"SELECT count(*) FROM {table}") == 2
        assert await admin.fetchval("SELECT to_regclass($1)::text", f"{pg_schema}.rows_n")
    finally:
        await pool.close()
        for conn in (writer, long_writer, admin):
            await conn.close()


async def test_a_set_up_of_existing_indexes_takes_no_lock_on_their_tables(
    pg_dsn: str, pg_schema: str
) -> None:
    # A read model's set-up on a second instance, while the first writes its rows: nothing to
    # create, so nothing to wait for.
    admin = await asyncpg.connect(pg_dsn)
    writer = await asyncpg.connect(pg_dsn)
    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=2)
    table = f"{pg_schema}.rows"
    setup = ddl_step(f"CREATE INDEX IF NOT EXISTS rows_n ON {table} (n)")
    await admin.execute(f"CREATE SCHEMA {pg_schema}; CREATE TABLE {table} (n integer)")
    try:
        await run_migration(pool, setup)
        async with writer.transaction():
            await writer.execute(f"INSERT INTO {table} VALUES (1)")
            await asyncio.wait_for(run_migration(pool, setup), timeout=5)
            waiting = await admin.fetchval(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = $1::regclass",
                table,
            )
            assert waiting == 0
    finally:
        await pool.close()
        await writer.close()
        await admin.close()
