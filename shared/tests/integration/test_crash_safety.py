"""Crash safety, proven by killing real processes with SIGKILL (no mocks).

* A relay killed mid-publish and restarted loses nothing; the duplicates it may publish are
  ignored by consumers.
* A projection consumer killed mid-batch and restarted ends exactly equal to a rebuild from
  offset 0.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from eventspine.config import Settings
from eventspine.consumer import ProjectionRunner
from eventspine.envelope import RecordedEvent
from eventspine.events import EventRegistry
from eventspine.kafka import ensure_topics, make_consumer
from eventspine.store.base import AppendRequest, CommandContext
from eventspine.store.postgres import PostgresEventStore
from support.kafka_read import read_topic
from support.pg import throwaway_prefix
from support.processes import kill, spawn, stop, wait_until
from support.sample import AssignmentLog, assigned

pytestmark = pytest.mark.integration

EVENTS = 3000


@pytest.fixture
async def prefix(pg_dsn: str) -> AsyncIterator[str]:
    """A schema prefix unique to the test; its schemas are dropped afterwards."""
    async with throwaway_prefix(pg_dsn, "c") as value:
        yield value


def env_of(settings: Settings, prefix: str, **extra: str) -> dict[str, str]:
    return {
        "SANLIAN_PG_DSN": settings.pg_dsn,
        "SANLIAN_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "SANLIAN_TOPIC_PREFIX": settings.topic_prefix,
        "SANLIAN_PG_SCHEMA_PREFIX": prefix,
        **extra,
    }


async def fill(store: PostgresEventStore, count: int) -> None:
    """``count`` events over 100 streams, 50 events per append."""
    ctx = CommandContext(actor="staff:test")
    uppers = [uuid.uuid4() for _ in range(100)]
    versions = [0] * 100
    for start in range(0, count, 50):
        stream = (start // 50) % 100
        await store.append_many(
            [
                AppendRequest(
                    f"member-{stream}",
                    versions[stream],
                    [assigned(uppers[stream]) for _ in range(50)],
                )
            ],
            ctx,
        )
        versions[stream] += 50


@pytest.fixture
async def published(
    pg_dsn: str, kafka_bootstrap: str, prefix: str, registry: EventRegistry, tmp_path: Path
) -> AsyncIterator[tuple[Settings, PostgresEventStore]]:
    """A roster store of EVENTS events, relayed to Kafka by a relay that was killed once."""
    settings = Settings(
        pg_dsn=pg_dsn,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"test.{prefix.rstrip('_')}",
        pg_schema_prefix=prefix,
    )
    store = PostgresEventStore(pg_dsn, "roster", registry, schema=settings.store_schema("roster"))
    await store.open()
    await fill(store, EVENTS)
    await ensure_topics(settings, [settings.topic("roster")])
    checkpoint = f"relay:{settings.topic('roster')}"
    log = tmp_path / "relay.log"
    env = env_of(settings, prefix, SANLIAN_RELAY_BATCH_SIZE="20")

    relay = spawn(["relay", "--service", "roster"], env, log)

    async def started() -> bool:
        return await store.load_checkpoint(checkpoint) >= 200

    await wait_until(started, 60, "the relay's first batches", relay, log)
    kill(relay)
    killed_at = await store.load_checkpoint(checkpoint)
    assert killed_at < EVENTS, "the relay finished before it could be killed"

    relay = spawn(["relay", "--service", "roster"], env, log)

    async def finished() -> bool:
        return await store.load_checkpoint(checkpoint) == EVENTS

    await wait_until(finished, 120, "the restarted relay to catch up", relay, log)
    stop(relay)
    yield settings, store
    await store.close()


async def test_a_relay_killed_mid_publish_loses_nothing(
    published: tuple[Settings, PostgresEventStore],
) -> None:
    settings, store = published
    records = await read_topic(settings.kafka_bootstrap, settings.topic("roster"))
    events = [RecordedEvent.from_kafka(r.headers, r.value) for rs in records.values() for r in rs]
    assert {e.position for e in events} == set(range(1, EVENTS + 1))
    stored = {e.position: e for e in await store.read_all(0, EVENTS)}
    assert all(stored[e.position] == e.model_copy(update={"command_id": None}) for e in events)
    for partition in records.values():  # in each partition, a duplicate only repeats the past
        highest = 0
        for record in partition:
            position = RecordedEvent.from_kafka(record.headers, record.value).position
            assert position > highest or position in stored
            highest = max(highest, position)


async def snapshot(pool: asyncpg.Pool, table: str) -> tuple[list[tuple[str, int]], list[str]]:
    counts = await pool.fetch(f"SELECT upper_member_id, assigned FROM {table}_counts ORDER BY 1")
    log = await pool.fetch(f"SELECT event_id FROM {table}_log ORDER BY position")
    return [(r[0], r[1]) for r in counts], [r[0] for r in log]


async def test_a_consumer_killed_mid_batch_ends_equal_to_a_rebuild(
    published: tuple[Settings, PostgresEventStore], prefix: str, pg_dsn: str, tmp_path: Path
) -> None:
    settings, _ = published
    schema = f"{prefix}reports"
    table = f"{schema}.live"
    log = tmp_path / "projection.log"
    env = env_of(
        settings,
        prefix,
        SANLIAN_CONSUMER_BATCH_SIZE="400",
        SAMPLE_PROJECTION_NAME=f"{prefix}live",
        SAMPLE_PROJECTION_TABLE=table,
    )
    args = ["project", "--projection", "support.sample:from_environment", "--schema", schema]
    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=4)
    try:
        consumer = spawn(args, {**env, "SAMPLE_PROJECTION_DELAY": "0.002"}, log)

        async def applied_some() -> bool:
            try:
                return bool(await pool.fetchval(f"SELECT count(*) FROM {table}_log"))
            except asyncpg.UndefinedTableError:
                return False

        await wait_until(applied_some, 60, "the first committed batch", consumer, log)
        await asyncio.sleep(0.3)  # well inside the next batch (400 events x 2 ms)
        kill(consumer)
        assert await pool.fetchval(f"SELECT count(*) FROM {table}_log") < EVENTS

        consumer = spawn(args, env, log)

        async def caught_up() -> bool:
            return int(await pool.fetchval(f"SELECT count(*) FROM {table}_log")) >= EVENTS

        await wait_until(caught_up, 120, "the restarted consumer to catch up", consumer, log)
        await asyncio.sleep(0.5)  # anything applied twice would show up now
        stop(consumer)
        live = await snapshot(pool, table)

        rebuilt = AssignmentLog(f"{prefix}rebuilt", f"{schema}.rebuilt")
        runner = ProjectionRunner(
            rebuilt,
            pool,
            lambda group, topics: make_consumer(settings, group, *topics),
            [settings.topic("roster")],
            schema=schema,
        )
        stop_event = asyncio.Event()
        task = asyncio.create_task(runner.run(stop_event, rebuild=True))

        async def rebuilt_all() -> bool:
            try:
                rebuilt_rows = await pool.fetchval(f"SELECT count(*) FROM {schema}.rebuilt_log")
                return int(rebuilt_rows) >= EVENTS
            except asyncpg.UndefinedTableError:
                return False

        await wait_until(rebuilt_all, 120, "the rebuild")
        stop_event.set()
        await task
        assert live == await snapshot(pool, f"{schema}.rebuilt")
        assert len(live[1]) == len(set(live[1])) == EVENTS
    finally:
        await pool.close()
