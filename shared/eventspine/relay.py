"""The relay: publishes a service's stored events to its Kafka topic, in position order.

The event store is the outbox. The relay reads everything after its checkpoint, sends it
(key = stream id, so each stream stays in order on one partition), waits until the broker
acknowledged every record (``acks=all``), and only then moves the checkpoint. A relay killed
between the acknowledgement and the checkpoint publishes some events again on restart; those
duplicates carry their original position, and consumers ignore positions they already applied
(:mod:`eventspine.consumer`).

Because appends are serialised per store, positions commit in order: "everything after the
checkpoint" never skips an event of a slower transaction.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiokafka import AIOKafkaProducer

from eventspine.envelope import RecordedEvent
from eventspine.store.base import EventStore

log = structlog.get_logger(__name__)


class Relay:
    """Moves events from one store to one topic. Run a single relay per store."""

    def __init__(
        self,
        store: EventStore,
        producer: AIOKafkaProducer,
        topic: str,
        *,
        batch_size: int = 500,
        idle_seconds: float = 0.05,
    ) -> None:
        self.store = store
        self.producer = producer
        self.topic = topic
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.checkpoint_name = f"relay:{topic}"
        self._position: int | None = None
        self._wake = asyncio.Event()
        store.subscribe(self._on_append)

    def _on_append(self, events: list[RecordedEvent]) -> None:
        self._wake.set()

    async def position(self) -> int:
        """The position of the last event the broker acknowledged."""
        if self._position is None:
            self._position = await self.store.load_checkpoint(self.checkpoint_name)
        return self._position

    async def publish_batch(self) -> int:
        """Publish the next batch after the checkpoint; return how many events were sent."""
        after = await self.position()
        events = await self.store.read_all(after, self.batch_size)
        if not events:
            return 0
        sends = [
            await self.producer.send(
                self.topic,
                value=event.kafka_value(),
                key=event.stream_id.encode(),
                headers=event.kafka_headers(),
            )
            for event in events
        ]
        await asyncio.gather(*sends)  # every record acknowledged by all in-sync replicas
        last = events[-1].position
        await self.store.save_checkpoint(self.checkpoint_name, last)
        self._position = last
        return len(events)

    async def drain(self) -> int:
        """Publish until nothing is left; return the number of events sent."""
        total = 0
        while sent := await self.publish_batch():
            total += sent
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Publish continuously until ``stop`` is set; sleeps briefly when idle."""
        log.info("relay.started", topic=self.topic, position=await self.position())
        while not stop.is_set():
            if await self.publish_batch():
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.idle_seconds)
        log.info("relay.stopped", topic=self.topic, position=await self.position())
