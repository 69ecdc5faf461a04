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
from collections import deque
from collections.abc import Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from eventspine.envelope import OutboxRecord, RecordedEvent
from eventspine.kafka import replace_producer
from eventspine.store.base import EventStore

log = structlog.get_logger(__name__)


class RelayStalled(Exception):
    """The broker did not acknowledge a batch in time; the relay renews its producer."""


class Relay:
    """Moves events from one store to one topic. Run a single relay per store.

    Up to ``max_in_flight`` batches are on their way to the broker at once (reading the next
    batch overlaps the broker's acknowledgement of the previous one); the checkpoint still only
    moves over batches whose every record was acknowledged, oldest first.
    """

    def __init__(
        self,
        store: EventStore,
        producer: AIOKafkaProducer,
        topic: str,
        *,
        batch_size: int = 500,
        idle_seconds: float = 0.05,
        max_in_flight: int = 2,
        ack_timeout: float = 60.0,
        producer_factory: Callable[[], AIOKafkaProducer] | None = None,
    ) -> None:
        self.store = store
        self.producer = producer
        # After a failed send the relay continues with a fresh producer made by this factory
        # (without one it keeps the producer it was given).
        self.producer_factory = producer_factory
        self.topic = topic
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.max_in_flight = max_in_flight
        # A batch the broker has not acknowledged after this long counts as failed: the relay
        # starts again from its checkpoint with a new producer. The producer's own request
        # timeout normally ends a send first; this bounds whatever it does not (a send future
        # that is never settled would otherwise stop the relay for good, silently).
        self.ack_timeout = ack_timeout
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

    async def _send(self, records: list[OutboxRecord]) -> asyncio.Future[list[Any]]:
        sends = [
            await self.producer.send(self.topic, value=r.value, key=r.key, headers=r.headers)
            for r in records
        ]
        return asyncio.gather(*sends)

    async def _acknowledged(self, position: int, acks: asyncio.Future[list[Any]]) -> None:
        try:  # every record acknowledged by all in-sync replicas
            await asyncio.wait_for(acks, self.ack_timeout)
        except TimeoutError:
            raise RelayStalled(
                f"no acknowledgement for the batch ending at position {position} "
                f"after {self.ack_timeout} s"
            ) from None
        await self.store.save_checkpoint(self.checkpoint_name, position)
        self._position = position

    async def _renew_producer(self) -> None:
        """Replace the producer after a broker error (see :func:`replace_producer`); whatever
        the old one may still have delivered is published again from the checkpoint, and
        consumers skip positions they already applied."""
        if self.producer_factory is None:
            return
        self.producer = await replace_producer(self.producer, self.producer_factory)

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Publish until nothing is left (or ``stop`` is set); return the number sent."""
        cursor = await self.position()
        in_flight: deque[tuple[int, asyncio.Future[list[Any]]]] = deque()
        sent = 0
        try:
            while stop is None or not stop.is_set():
                records = await self.store.read_outbox(cursor, self.batch_size)
                if records:
                    cursor = records[-1].position
                    in_flight.append((cursor, await self._send(records)))
                    sent += len(records)
                while in_flight and (len(in_flight) > self.max_in_flight or not records):
                    await self._acknowledged(*in_flight.popleft())
                if not records:
                    break
        finally:
            for _, acks in in_flight:  # a failed send: let the rest settle, checkpoint stays
                acks.cancel()
        return sent

    async def run(self, stop: asyncio.Event, max_backoff: float = 30.0) -> None:
        """Publish continuously until ``stop`` is set; sleeps briefly when idle.

        A broker or database outage does not end the relay: it waits (doubling, up to
        ``max_backoff`` seconds) and starts again from its checkpoint. Commands keep being
        accepted meanwhile, since the store is the outbox.
        """
        log.info("relay.started", topic=self.topic, position=await self.position())
        backoff = 0.5
        while not stop.is_set():
            self._wake.clear()
            try:
                sent = await self.drain(stop)
            except Exception as exc:
                log.warning("relay.retrying", topic=self.topic, error=repr(exc), seconds=backoff)
                self._position = None  # reload the checkpoint: it is the truth
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(max_backoff, backoff * 2)
                if isinstance(exc, KafkaError | RelayStalled):
                    try:
                        await self._renew_producer()
                    except Exception as renew_error:  # the broker is still away: next round
                        log.warning("relay.producer_not_renewed", error=repr(renew_error))
                continue
            backoff = 0.5
            if sent:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.idle_seconds)
        log.info("relay.stopped", topic=self.topic, position=await self.position())
