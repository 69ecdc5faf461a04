"""Concurrency: one winner per version, and a relay that skips nothing while writers race."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

import asyncpg
import pytest

from eventspine.config import Settings
from eventspine.consumer import ProjectionRunner
from eventspine.envelope import RecordedEvent
from eventspine.errors import ConcurrencyError
from eventspine.kafka import ensure_topics, make_consumer, make_producer
from eventspine.relay import Relay
from eventspine.store.base import CommandContext, EventStore
from eventspine.store.postgres import PostgresEventStore
from support.kafka_read import read_topic
from support.processes import wait_until
from support.sample import AssignmentLog, assigned

pytestmark = pytest.mark.integration

CTX = CommandContext(actor="staff:test")


async def test_twenty_writers_on_one_stream_yield_exactly_one_winner_per_version(
    store: EventStore,
) -> None:
    for version in range(10):
        results = await asyncio.gather(
            *(store.append("member-1", version, [assigned()], CTX) for _ in range(20)),
            return_exceptions=True,
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1
        assert len(losers) == 19
        assert all(isinstance(r, ConcurrencyError) for r in losers)
    stream = await store.read_stream("member-1")
    assert [e.stream_version for e in stream] == list(range(1, 11))


async def test_the_relay_publishes_every_event_once_in_order_while_twenty_writers_race(
    pg_store: PostgresEventStore, kafka_settings: Settings
) -> None:
    topic = kafka_settings.topic("roster")
    await ensure_topics(kafka_settings, [topic])
    producer = make_producer(kafka_settings)
    await producer.start()
    relay = Relay(pg_store, producer, topic, batch_size=100, idle_seconds=0.01)
    stop = asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stop))

    async def writer(number: int, deadline: float) -> int:
        version = 0
        while time.monotonic() < deadline:
            await pg_store.append(f"member-{number}", version, [assigned()], CTX)
            version += 1
        return version

    deadline = time.monotonic() + 3.0
    written = await asyncio.gather(*(writer(n, deadline) for n in range(20)))
    head = await pg_store.head_position()
    assert head == sum(written) > 200
    await wait_until(lambda: _reached(relay, head), 60, "the relay to publish everything")
    stop.set()
    await relay_task
    await producer.stop()

    records = await read_topic(kafka_settings.kafka_bootstrap, topic)
    events = [RecordedEvent.from_kafka(r.headers, r.value) for rs in records.values() for r in rs]
    assert sorted(e.position for e in events) == list(range(1, head + 1))  # once each, none skipped
    per_stream: dict[str, list[int]] = defaultdict(list)
    for partition_records in records.values():
        for record in partition_records:
            event = RecordedEvent.from_kafka(record.headers, record.value)
            assert record.key == event.stream_id.encode()
            per_stream[event.stream_id].append(event.stream_version)
    assert {s: v for s, v in per_stream.items()} == {
        f"member-{n}": list(range(1, written[n] + 1)) for n in range(20)
    }


async def _reached(relay: Relay, position: int) -> bool:
    return await relay.position() >= position


async def test_the_consumer_ignores_events_the_relay_published_twice(
    pg_store: PostgresEventStore, kafka_settings: Settings, pg_dsn: str, pg_schema: str
) -> None:
    topic = kafka_settings.topic("roster")
    await ensure_topics(kafka_settings, [topic])
    for stream in range(5):
        await pg_store.append(f"member-{stream}", 0, [assigned() for _ in range(10)], CTX)
    producer = make_producer(kafka_settings)
    await producer.start()
    try:
        await Relay(pg_store, producer, topic).drain()
        # What a relay killed after the broker's ack but before its checkpoint does on restart:
        for event in await pg_store.read_all(20, 20):
            await producer.send_and_wait(
                topic,
                event.kafka_value(),
                key=event.stream_id.encode(),
                headers=event.kafka_headers(),
            )
    finally:
        await producer.stop()
    records = await read_topic(kafka_settings.kafka_bootstrap, topic)
    assert sum(len(r) for r in records.values()) == 70

    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=2)
    try:
        projection = AssignmentLog("dedupe", f"{pg_schema}.dedupe")
        runner = ProjectionRunner(
            projection,
            pool,
            lambda group, topics: make_consumer(kafka_settings, group, *topics),
            [topic],
            schema=pg_schema,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))

        async def consumed_all() -> bool:
            try:
                offsets = await runner.stored_offsets()
            except asyncpg.UndefinedTableError:  # the runner has not created its tables yet
                return False
            return sum(next_offset for next_offset, _ in offsets.values()) == 70

        await wait_until(consumed_all, 60, "the consumer to read the whole topic")
        stop.set()
        await task
        logged = await pool.fetch(f"SELECT event_id FROM {pg_schema}.dedupe_log")
        assert len(logged) == len({row[0] for row in logged}) == 50
    finally:
        await pool.close()
