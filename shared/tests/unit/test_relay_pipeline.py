"""The relay's pipelined drain (the next read and the last checkpoint write at the database
while a batch is handed to the producer) publishes what a batch-at-a-time drain published:
every outbox record once, in position order, byte for byte; its checkpoint never passes a
batch the broker has not acknowledged; and the cycle collector's threshold, raised while it
drains, is the process's own again afterwards."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

import pytest

from eventspine.envelope import OutboxRecord
from eventspine.events import EventRegistry
from eventspine.relay import Relay, RelayStalled
from eventspine.store.base import NO_STREAM, CommandContext
from eventspine.store.sqlite import SqliteEventStore
from support.sample import assigned

CTX = CommandContext("t")


class RecordingBroker:
    """Keeps every record sent; acknowledges the first ``acknowledged`` of them (all by
    default) and never settles the others."""

    def __init__(self, acknowledged: int | None = None) -> None:
        self.acknowledged = acknowledged
        self.records: list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]] = []

    async def send(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[None]:
        self.records.append((topic, key, value, headers))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.acknowledged is None or len(self.records) <= self.acknowledged:
            done.set_result(None)
        return done


async def filled_store(tmp_path: Path, registry: EventRegistry, streams: int) -> SqliteEventStore:
    """A store holding ``streams`` streams of three events each, appended in turn."""
    store = SqliteEventStore(str(tmp_path / "r.sqlite"), "roster", registry)
    await store.open()
    for version in range(3):
        for stream in range(streams):
            expected = NO_STREAM if version == 0 else version
            await store.append(f"member-{stream}", expected, [assigned()], CTX)
    return store


async def batch_at_a_time(store: SqliteEventStore, batch_size: int) -> list[OutboxRecord]:
    """What the relay sent before it pipelined: one read after another, in position order."""
    records: list[OutboxRecord] = []
    while batch := await store.read_outbox(records[-1].position if records else 0, batch_size):
        records.extend(batch)
    return records


async def test_the_pipelined_drain_sends_what_a_batch_at_a_time_drain_sent(
    tmp_path: Path, registry: EventRegistry
) -> None:
    store = await filled_store(tmp_path, registry, streams=7)  # 21 events, batches of 4
    try:
        broker = RecordingBroker()
        relay = Relay(store, broker, "topic", batch_size=4)
        assert await relay.drain() == 21
        expected = await batch_at_a_time(store, 4)
        assert [(k, v, h) for _, k, v, h in broker.records] == [
            (r.key, r.value, r.headers) for r in expected
        ]
        assert {t for t, *_ in broker.records} == {"topic"}
        assert await store.load_checkpoint("relay:topic") == 21
        assert await relay.position() == 21
        assert await relay.drain() == 0  # nothing left: nothing sent again
        assert len(broker.records) == 21
    finally:
        await store.close()


async def test_the_checkpoint_stops_at_the_last_batch_the_broker_acknowledged(
    tmp_path: Path, registry: EventRegistry
) -> None:
    store = await filled_store(tmp_path, registry, streams=7)
    try:
        broker = RecordingBroker(acknowledged=10)  # batches 1 and 2 whole, batch 3 in part
        relay = Relay(store, broker, "topic", batch_size=4, ack_timeout=0.05)
        with pytest.raises(RelayStalled):
            await relay.drain()
        assert await store.load_checkpoint("relay:topic") == 8
        assert await relay.position() == 8
    finally:
        await store.close()


async def test_a_stopped_drain_sends_no_more_and_keeps_its_acknowledged_checkpoint(
    tmp_path: Path, registry: EventRegistry
) -> None:
    store = await filled_store(tmp_path, registry, streams=7)
    try:
        stop = asyncio.Event()

        class StoppingBroker(RecordingBroker):
            async def send(self, *args: Any, **kwargs: Any) -> asyncio.Future[None]:
                if len(self.records) == 12:  # stopped while the fourth batch is handed over
                    stop.set()
                return await super().send(*args, **kwargs)

        broker = StoppingBroker()
        # No batch kept in flight: each is acknowledged before the next is sent.
        relay = Relay(store, broker, "topic", batch_size=4, max_in_flight=0)
        assert await relay.drain(stop) == 16
        assert len(broker.records) == 16  # the fifth batch, already read, is not sent
        # The fourth batch's checkpoint write is waited for before the drain returns.
        assert await store.load_checkpoint("relay:topic") == 16
        assert await relay.position() == 16
    finally:
        await store.close()


async def test_the_collector_threshold_is_raised_while_draining_and_put_back_after(
    tmp_path: Path, registry: EventRegistry
) -> None:
    store = await filled_store(tmp_path, registry, streams=2)
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, *before[1:])
        seen: list[int] = []

        class WatchingBroker(RecordingBroker):
            async def send(self, *args: Any, **kwargs: Any) -> asyncio.Future[None]:
                seen.append(gc.get_threshold()[0])
                return await super().send(*args, **kwargs)

        assert await Relay(store, WatchingBroker(), "topic").drain() == 6
        assert min(seen) > 700
        assert gc.get_threshold() == (700, *before[1:])
    finally:
        gc.set_threshold(*before)
        await store.close()
