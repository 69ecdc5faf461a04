"""Concurrency: one winner per version, and a relay that skips nothing while writers race."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

import pytest

from eventspine.config import Settings
from eventspine.envelope import RecordedEvent
from eventspine.errors import ConcurrencyError
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from eventspine.store.base import CommandContext, EventStore
from eventspine.store.postgres import PostgresEventStore
from support.kafka_read import read_topic
from support.processes import wait_until
from support.sample import assigned

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
