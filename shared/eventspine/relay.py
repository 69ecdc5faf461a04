"""The relay: publishes a service's stored events to its Kafka topic, in position order.

The event store is the outbox. The relay reads everything after its checkpoint, sends it
(key = stream id, so each stream stays in order on one partition), waits until the broker
acknowledged every record (``acks=all``), and only then moves the checkpoint. A relay killed
between the acknowledgement and the checkpoint publishes some events again on restart; those
duplicates carry their original position, and consumers ignore positions they already applied
(:mod:`eventspine.consumer`).

Because appends are serialised per store, positions commit in order: "everything after the
checkpoint" never skips an event of a slower transaction.

One relay per store publishes at a time: a relay given a :class:`RelayLease` holds a PostgreSQL
session-level advisory lock, keyed by the store's schema, before it sends anything. Another
relay on the same store is the standby: it tries the lock a few times a second and publishes
nothing until the active one's session ends (the process died, or the session was cut), then
takes over from the checkpoint. The active relay checks its lease before every batch and stops
at once when the lease connection is gone, so at most the batches already handed to the
producer overlap with the new active relay; those are duplicates by position, which consumers
skip as above.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from eventspine.collector import raise_young_threshold, restore_young_threshold
from eventspine.envelope import OutboxRecord, RecordedEvent
from eventspine.kafka import replace_producer
from eventspine.store.base import EventStore

log = structlog.get_logger(__name__)

_draining = 0
"""Relays draining in this process (the threshold is put back when the last one is done)."""
_young_before = 0
"""The youngest generation's threshold before the first of them raised it (0: not raised)."""


@contextlib.contextmanager
def _collector_held_off() -> Iterator[None]:
    """Keep the cycle collector off the batches in flight while the relay drains
    (:mod:`eventspine.collector`): raised while any relay drains and put back when the last
    one is done, so a process hosting a relay keeps its own setting between drains."""
    global _draining, _young_before
    if _draining == 0:
        _young_before = raise_young_threshold()
    _draining += 1
    try:
        yield
    finally:
        _draining -= 1
        if _draining == 0:
            restore_young_threshold(_young_before)


def _forget(task: asyncio.Future[Any]) -> None:
    """Cancel a read or a checkpoint write no longer awaited, and take its outcome so that it
    is not logged as lost."""
    task.cancel()
    task.add_done_callback(lambda done: done.cancelled() or done.exception())


class RelayStalled(Exception):
    """The broker did not acknowledge a batch in time; the relay renews its producer."""


class LeaseLost(Exception):
    """The relay's lease session ended or stopped answering: it must not publish any more."""


def lease_key(schema: str) -> int:
    """The advisory lock key of the relay lease on the store in ``schema`` (a signed bigint)."""
    digest = hashlib.sha256(f"sanlian.relay:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class RelayLease:
    """The right to publish one store's outbox: a session-level advisory lock on a connection
    of its own.

    The connection is not taken from a pool, since a session lock belongs to its connection;
    PostgreSQL releases it when that session ends, which is how a standby learns that the
    active relay is gone (a killed process's socket is closed by its kernel).
    """

    def __init__(
        self,
        dsn: str,
        schema: str,
        *,
        poll_seconds: float = 0.25,
        check_timeout: float = 5.0,
        connect_timeout: float = 10.0,
    ) -> None:
        self.dsn = dsn
        self.schema = schema
        self.key = lease_key(schema)
        self.poll_seconds = poll_seconds
        self.check_timeout = check_timeout
        self.connect_timeout = connect_timeout
        self._conn: asyncpg.Connection | None = None
        self._held = False

    @property
    def held(self) -> bool:
        """Whether this relay holds the lease as far as it knows (its session is still open)."""
        return self._held and self._conn is not None and not self._conn.is_closed()

    def _on_terminated(self, conn: object) -> None:
        if conn is self._conn:
            self._held = False

    async def _connect(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(
                self.dsn,
                timeout=self.connect_timeout,
                server_settings={"application_name": f"sanlian-relay-lease:{self.schema}"},
            )
            self._conn.add_termination_listener(self._on_terminated)
        return self._conn

    async def acquire(self, stop: asyncio.Event, *, rest_seconds: float = 0.0) -> bool:
        """Wait until the lease is this relay's (True) or ``stop`` is set (False).

        ``rest_seconds`` first: a relay that just lost its lease leaves the standby the first
        try, rather than winning its own lock back before anyone else looked.
        """
        if rest_seconds:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), rest_seconds)
        standby = False
        wait = self.poll_seconds
        while not stop.is_set():
            try:
                conn = await self._connect()
                got = await conn.fetchval(
                    "SELECT pg_try_advisory_lock($1)", self.key, timeout=self.check_timeout
                )
            except (
                OSError,
                TimeoutError,
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
                # The driver's protocol met a connection the server was ending (a restart).
                asyncpg.InternalClientError,
            ) as exc:
                log.warning(
                    "relay.lease_unavailable", schema=self.schema, error=repr(exc), seconds=wait
                )
                await self.release()
                wait = min(5.0, wait * 2)  # the database is away: do not flood its log or ours
            else:
                if got:
                    self._held = True
                    return True
                if not standby:
                    log.info("relay.standby", schema=self.schema, role="standby")
                    standby = True
                wait = self.poll_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
        return False

    async def check(self) -> None:
        """Raise :class:`LeaseLost` unless the lease session still answers."""
        conn = self._conn
        if not self.held or conn is None:
            raise LeaseLost(f"the lease on {self.schema} is not held")
        try:
            await conn.fetchval("SELECT 1", timeout=self.check_timeout)
        except Exception as exc:
            self._held = False
            raise LeaseLost(f"the lease session on {self.schema} is gone: {exc!r}") from exc

    async def release(self) -> None:
        """End the lease session (which releases the lock, if it was held)."""
        self._held = False
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), self.check_timeout)
            except Exception:  # the session is unusable anyway: drop the socket
                conn.terminate()


class Relay:
    """Moves events from one store to one topic.

    With a ``lease`` it publishes only while it holds it (:meth:`run`), so several relays may
    run on one store: one active, the others standing by. Without one, run a single relay per
    store.

    Up to ``max_in_flight`` batches are on their way to the broker at once (the broker
    acknowledges one while the next is read and handed to the producer); the next batch's read
    and the last acknowledged batch's checkpoint write are at the database while the current
    batch is handed over. The checkpoint still only moves over batches whose every record was
    acknowledged, oldest first, one write at a time.
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
        lease: RelayLease | None = None,
    ) -> None:
        self.store = store
        self.lease = lease
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

    @property
    def role(self) -> str:
        """``active`` while the relay may publish (it holds its lease, or has none), else
        ``standby``."""
        return "active" if self.lease is None or self.lease.held else "standby"

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

    async def _checkpoint(self, position: int) -> int:
        await self.store.save_checkpoint(self.checkpoint_name, position)
        return position

    async def _renew_producer(self) -> None:
        """Replace the producer after a broker error (see :func:`replace_producer`); whatever
        the old one may still have delivered is published again from the checkpoint, and
        consumers skip positions they already applied."""
        if self.producer_factory is None:
            return
        self.producer = await replace_producer(self.producer, self.producer_factory)

    async def drain(
        self, stop: asyncio.Event | None = None, lease: RelayLease | None = None
    ) -> int:
        """Publish until nothing is left (or ``stop`` is set); return the number sent.

        With ``lease``, each batch is sent only after the lease session answered; when it does
        not, :class:`LeaseLost` is raised and nothing more is sent."""
        if lease is not None and not lease.held:
            raise LeaseLost(f"the lease on {lease.schema} is not held")
        with _collector_held_off():
            return await self._drain(stop, lease)

    async def _drain(self, stop: asyncio.Event | None, lease: RelayLease | None) -> int:
        cursor = await self.position()
        in_flight: deque[tuple[int, asyncio.Future[list[Any]]]] = deque()
        reading: asyncio.Future[list[OutboxRecord]] | None = None
        # The checkpoint write of the last acknowledged batch, at the database while the relay
        # goes on; one at a time, so the checkpoint moves in order.
        saving: asyncio.Future[int] | None = None
        sent = 0
        try:
            while stop is None or not stop.is_set():
                if reading is None:
                    records = await self.store.read_outbox(cursor, self.batch_size)
                else:
                    records, reading = await reading, None
                if records:
                    cursor = records[-1].position
                    # The next read goes to the database while this batch is handed to the
                    # producer (reading publishes nothing: the lease is checked before a send).
                    reading = asyncio.ensure_future(self.store.read_outbox(cursor, self.batch_size))
                    if lease is not None:
                        await lease.check()
                    in_flight.append((cursor, await self._send(records)))
                    sent += len(records)
                while in_flight and (len(in_flight) > self.max_in_flight or not records):
                    position, acks = in_flight.popleft()
                    await self._acknowledged(position, acks)
                    if saving is not None:
                        self._position, saving = await saving, None
                    saving = asyncio.ensure_future(self._checkpoint(position))
                if not records:
                    break
            if saving is not None:
                self._position, saving = await saving, None
        except Exception:
            if saving is not None:  # a batch acknowledged before the failure keeps its checkpoint
                with contextlib.suppress(Exception):
                    self._position, saving = await saving, None
            raise
        finally:
            # Stopped, failed or cancelled: what was read is read again, and what is not
            # acknowledged or not checkpointed is published again (consumers skip it by position).
            for pending in (reading, saving):
                if pending is not None:
                    _forget(pending)
            for _, acks in in_flight:  # a failed send: let the rest settle, checkpoint stays
                acks.cancel()
        return sent

    async def run(self, stop: asyncio.Event, max_backoff: float = 30.0) -> None:
        """Publish continuously until ``stop`` is set; sleeps briefly when idle.

        A broker or database outage does not end the relay: it waits (doubling, up to
        ``max_backoff`` seconds) and starts again from its checkpoint. Commands keep being
        accepted meanwhile, since the store is the outbox.

        With a lease, the relay first waits for it (standing by while another relay holds it),
        and goes back to waiting whenever it loses it.
        """
        log.info("relay.started", topic=self.topic, position=await self.position(), role=self.role)
        backoff = 0.5
        rest = 0.0
        # Whether this relay may publish; a lease lost meanwhile is found out by drain, which
        # raises LeaseLost (rather than winning the lock straight back here).
        active = self.lease is None
        try:
            while not stop.is_set():
                if self.lease is not None and not active:
                    if not await self.lease.acquire(stop, rest_seconds=rest):
                        break
                    active = True
                    self._position = None  # the previous active relay moved the checkpoint
                    log.info(
                        "relay.active",
                        topic=self.topic,
                        position=await self.position(),
                        role="active",
                    )
                    rest = 0.0
                self._wake.clear()
                try:
                    sent = await self.drain(stop, self.lease)
                except LeaseLost as exc:
                    log.warning(
                        "relay.lease_lost", topic=self.topic, error=str(exc), role="standby"
                    )
                    self._position = None
                    active = False
                    if self.lease is not None:
                        await self.lease.release()
                        rest = 4 * self.lease.poll_seconds
                    continue
                except Exception as exc:
                    await self._after_failure(exc, stop, backoff)
                    backoff = min(max_backoff, backoff * 2)
                    continue
                backoff = 0.5
                if sent:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.idle_seconds)
        finally:
            if self.lease is not None:
                await self.lease.release()
        log.info("relay.stopped", topic=self.topic, position=await self.position())

    async def _after_failure(self, exc: Exception, stop: asyncio.Event, backoff: float) -> None:
        """Wait ``backoff`` seconds after a failed drain (the checkpoint is reloaded: it is the
        truth); renew the producer after a broker error."""
        log.warning(
            "relay.retrying", topic=self.topic, error=repr(exc), seconds=backoff, role=self.role
        )
        self._position = None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), backoff)
        if isinstance(exc, KafkaError | RelayStalled):
            try:
                await self._renew_producer()
            except Exception as renew_error:  # the broker is still away: next round
                log.warning("relay.producer_not_renewed", error=repr(renew_error))
