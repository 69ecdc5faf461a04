"""The relay outlives a broker outage: it waits and starts again from its checkpoint.

The broker here is a stand-in that refuses the first sends (a unit test of the retry loop;
the real-broker path is covered by the integration tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiokafka.errors import OutOfOrderSequenceNumber

from eventspine.events import EventRegistry
from eventspine.relay import Relay
from eventspine.store.base import NO_STREAM, CommandContext
from eventspine.store.sqlite import SqliteEventStore
from support.sample import assigned


async def run_until_published(relay: Relay, position: int, rounds: int) -> None:
    """Run the relay (short backoff) until it has published up to ``position``, or give up
    after ``rounds`` looks 10 ms apart; then stop it."""
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop, max_backoff=0.05))
    for _ in range(rounds):
        if await relay.position() == position:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await task


class FlakyBroker:
    """Refuses ``failures`` sends, then acknowledges everything."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.records: list[tuple[bytes, Any]] = []

    async def send(self, topic: str, value: bytes, key: bytes, headers: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker unavailable")
        self.records.append((key, headers))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def start(self) -> None:
        """Nothing to connect to."""

    async def stop(self) -> None:
        """Nothing to release."""


async def test_the_relay_retries_after_an_outage_and_loses_nothing(
    tmp_path: Path, registry: EventRegistry
) -> None:
    store = SqliteEventStore(str(tmp_path / "r.sqlite"), "roster", registry)
    await store.open()
    try:
        await store.append("member-1", NO_STREAM, [assigned(), assigned()], CommandContext("t"))
        broker = FlakyBroker(failures=3)
        relay = Relay(store, broker, "topic", idle_seconds=0.01)
        await run_until_published(relay, 2, rounds=200)
        assert await store.load_checkpoint("relay:topic") == 2
        assert len(broker.records) == 2
    finally:
        await store.close()


class WedgedProducer(FlakyBroker):
    """A producer the broker refuses for good (as after failed in-flight idempotent sends)."""

    def __init__(self) -> None:
        super().__init__(failures=0)
        self.stopped = False

    async def send(self, topic: str, value: bytes, key: bytes, headers: Any) -> Any:
        raise OutOfOrderSequenceNumber()

    async def stop(self) -> None:
        self.stopped = True


async def test_a_producer_refused_for_good_is_replaced_and_the_relay_goes_on(
    tmp_path: Path, registry: EventRegistry
) -> None:
    store = SqliteEventStore(str(tmp_path / "r.sqlite"), "roster", registry)
    await store.open()
    try:
        await store.append("member-1", NO_STREAM, [assigned(), assigned()], CommandContext("t"))
        wedged, fresh = WedgedProducer(), FlakyBroker(failures=0)
        relay = Relay(store, wedged, "topic", idle_seconds=0.01, producer_factory=lambda: fresh)
        await run_until_published(relay, 2, rounds=200)
        assert wedged.stopped
        assert relay.producer is fresh
        assert len(fresh.records) == 2
    finally:
        await store.close()


class SilentProducer(FlakyBroker):
    """Takes every record and never settles its delivery (a producer whose sender is stuck)."""

    def __init__(self) -> None:
        super().__init__(failures=0)
        self.stopped = False

    async def send(self, topic: str, value: bytes, key: bytes, headers: Any) -> Any:
        return asyncio.get_running_loop().create_future()  # never resolved

    async def stop(self) -> None:
        self.stopped = True


async def test_a_batch_never_acknowledged_renews_the_producer_instead_of_stalling(
    tmp_path: Path, registry: EventRegistry
) -> None:
    store = SqliteEventStore(str(tmp_path / "r.sqlite"), "roster", registry)
    await store.open()
    try:
        await store.append("member-1", NO_STREAM, [assigned(), assigned()], CommandContext("t"))
        silent, fresh = SilentProducer(), FlakyBroker(failures=0)
        relay = Relay(
            store,
            silent,
            "topic",
            idle_seconds=0.01,
            ack_timeout=0.05,
            producer_factory=lambda: fresh,
        )
        await run_until_published(relay, 2, rounds=300)
        assert silent.stopped
        assert relay.producer is fresh
        assert await store.load_checkpoint("relay:topic") == 2
        assert len(fresh.records) == 2
    finally:
        await store.close()
