"""The consumer runner: feeds a projection from Kafka, with its offsets stored beside its rows.

For each poll (records of one or more partitions), one PostgreSQL transaction applies the
events and records each partition's next offset and last applied position. A crash before
commit applies nothing of the poll; a restart seeks to the stored offsets. Records the relay
published twice (it may, after a crash) carry a position already applied on that partition
and are skipped: one stream always maps to one partition, and the relay publishes positions
in increasing order."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord

from eventspine.collector import raise_young_threshold
from eventspine.deadletter import DeadLetters, decode
from eventspine.events import EventRegistry
from eventspine.projection import Delivered, Projection, Tx, apply_all, deferring
from eventspine.schemas import installed_registry
from eventspine.store.migration import run_migration
from eventspine.store.postgres import checked_schema

log = structlog.get_logger(__name__)

_REPORT_SECONDS = 2.0
"""How long a stopping runner waits for its last offsets report to Kafka."""

_DECODE_SLICE = 16
"""Records decoded between two turns of the event loop."""

_POLLS_PER_TRANSACTION = 16
"""At most this many polls' records are applied in one transaction. Polls join one only while
the previous transaction is still being written (far behind: a rebuild, a backlog), and a
projection whose batch work grows with what the batch touches rather than with its events
(the compliance aggregates recompute each link a batch touches) does it once per link
instead of once per poll that touched it: 4 polls recomputed a rebuild's links three times
over, 16 about once."""

ConsumerFactory = Callable[[str, list[str]], AIOKafkaConsumer]
Decoded = dict[TopicPartition, list[tuple[int, Delivered | None]]]
"""A poll's records per partition as ``(offset, event)``; ``None``: sent to the dead letters."""


def offsets_ddl(schema: str) -> str:
    """The table of consumed offsets, in the projection's own schema."""
    return f"""
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {schema}.projection_offsets (
    projection     text NOT NULL,
    topic          text NOT NULL,
    partition      integer NOT NULL,
    next_offset    bigint NOT NULL,
    last_position  bigint NOT NULL,
    last_event_time timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, topic, partition)
);
"""


def _next_offsets(
    batches: Mapping[TopicPartition, list[ConsumerRecord[Any, Any]]],
) -> dict[TopicPartition, int]:
    """Each partition's offset after the last record of a poll."""
    return {tp: records[-1].offset + 1 for tp, records in batches.items()}


def _at_end(consumer: AIOKafkaConsumer, polled: Mapping[TopicPartition, int]) -> bool:
    """Whether the records polled reach the end every assigned partition had when last
    fetched (its high watermark, as the broker last told it: no round trip)."""
    for tp in consumer.assignment():
        end = consumer.highwater(tp)
        if end is None or polled.get(tp, 0) < end:
            return False
    return True


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, continue each partition from the offset stored with the projection."""

    def __init__(self, runner: ProjectionRunner) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        """Let the poll still being written commit, so the next owner finds its offsets."""
        await self.runner.settle()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self.runner.seek_assigned(list(assigned))


class ProjectionRunner:
    """Runs one projection against Kafka topics, storing its rows and offsets in PostgreSQL.

    Each record is decoded once, by ``registry`` (default: every installed catalogue), into
    the typed, upcast event the projection receives.
    """

    def __init__(
        self,
        projection: Projection,
        pool: asyncpg.Pool,
        consumer_factory: ConsumerFactory,
        topics: list[str],
        *,
        schema: str,
        batch_size: int = 500,
        group_prefix: str = "sanlian",
        registry: EventRegistry | None = None,
        dead_letters: DeadLetters | None = None,
    ) -> None:
        self.projection = projection
        self.pool = pool
        self.consumer_factory = consumer_factory
        self.topics = topics
        self.schema = checked_schema(schema)
        self.batch_size = batch_size
        # The prefix keeps deployments (and test runs) that share a cluster apart.
        self.group_id = f"{group_prefix}.projection.{projection.name}"
        # With a dead-letter sink a record that cannot be applied is set aside; without one it
        # stops the runner (nothing is skipped silently).
        self.registry = registry if registry is not None else installed_registry()
        self.dead_letters = dead_letters
        self._consumer: AIOKafkaConsumer | None = None
        # Next offset per partition as of the last commit seen: records below it are not
        # decoded again (the transaction still checks against the stored offsets).
        self._next: dict[TopicPartition, int] = {}
        self._inflight: asyncio.Task[int] | None = None
        self._polled: dict[TopicPartition, int] = {}
        # Offsets committed in PostgreSQL, not yet reported to Kafka (for lag tools only),
        # and the task reporting them: off the poll loop, one report at a time.
        self._unreported: dict[TopicPartition, int] = {}
        self._reporting: asyncio.Task[None] | None = None

    async def setup(self) -> None:
        """Create the offsets table and the projection's tables."""

        async def step(conn: Tx) -> None:
            await conn.execute(offsets_ddl(self.schema))
            await self.projection.setup(conn)

        await run_migration(self.pool, step)

    async def reset(self) -> None:
        """Empty the projection and forget its offsets: the next run rebuilds from offset 0."""
        async with self.pool.acquire() as conn, conn.transaction():
            await self.projection.reset(conn)
            await conn.execute(
                f"DELETE FROM {self.schema}.projection_offsets WHERE projection = $1",
                self.projection.name,
            )

    async def stored_offsets(self) -> dict[TopicPartition, tuple[int, int]]:
        """``{partition: (next_offset, last_position)}`` as committed with the projection."""
        rows = await self.pool.fetch(
            f"SELECT topic, partition, next_offset, last_position "
            f"FROM {self.schema}.projection_offsets WHERE projection = $1",
            self.projection.name,
        )
        return {
            TopicPartition(r["topic"], r["partition"]): (r["next_offset"], r["last_position"])
            for r in rows
        }

    async def seek_assigned(self, assigned: list[TopicPartition]) -> None:
        """Seek each newly assigned partition to its stored offset (or to the beginning)."""
        consumer = self._consumer
        if consumer is None:
            return
        stored = await self.stored_offsets()
        fresh = [tp for tp in assigned if tp not in stored]
        for tp in assigned:
            self._next[tp] = stored[tp][0] if tp in stored else 0
            if tp in stored:
                consumer.seek(tp, stored[tp][0])
        if fresh:
            await consumer.seek_to_beginning(*fresh)

    async def apply_batches(
        self, batches: Mapping[TopicPartition, list[ConsumerRecord[Any, Any]]]
    ) -> int:
        """Apply what one poll returned: every partition's records in one transaction with
        their offsets. Return how many events it applied."""
        return await self._apply(await self.decode_batches(batches))

    async def decode_batches(
        self, batches: Mapping[TopicPartition, list[ConsumerRecord[Any, Any]]]
    ) -> Decoded:
        """Each partition's records as ``(offset, event)``, decoded outside any transaction;
        a record that cannot be decoded is sent to the dead letters and kept as
        ``(offset, None)`` so its offset is still passed."""
        decoded: Decoded = {}
        count = 0
        for tp, records in batches.items():
            known = self._next.get(tp, 0)
            items: list[tuple[int, Delivered | None]] = []
            for record in records:
                if record.offset < known:
                    continue  # already applied: a seek raced with a rebalance
                count += 1
                if count % _DECODE_SLICE == 0:
                    # Let the previous poll's transaction take its next round trip: it
                    # waits on the server, then on this loop, and decoding a whole poll
                    # without a pause had the loop wait for it most of a rebuild.
                    await asyncio.sleep(0)
                try:
                    items.append((record.offset, decode(record, self.registry)))
                except (ValueError, KeyError) as exc:
                    if self.dead_letters is None:
                        raise
                    await self.dead_letters.send(record, str(exc))
                    items.append((record.offset, None))
            decoded[tp] = items
        return decoded

    async def _apply(self, decoded: Decoded) -> int:
        """One transaction: the events not applied yet (by stored offset and position) and
        every partition's new offset."""
        parts = sorted(decoded, key=lambda tp: (tp.topic, tp.partition))  # lock order
        async with self.pool.acquire() as conn, conn.transaction():
            # The rows and their offsets commit together: should the server lose this commit
            # in a crash, it loses both, and the records are consumed again from the offsets
            # it kept. So the commit need not wait for its WAL to reach the disk.
            await conn.execute("SET LOCAL synchronous_commit = off")
            rows = await conn.fetch(
                f"SELECT topic, partition, next_offset, last_position "
                f"FROM {self.schema}.projection_offsets WHERE projection = $1 "
                "AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::integer[])) "
                "ORDER BY topic, partition FOR UPDATE",
                self.projection.name,
                [tp.topic for tp in parts],
                [tp.partition for tp in parts],
            )
            stored = {(r[0], r[1]): (r[2], r[3]) for r in rows}
            fresh: list[Delivered] = []
            moved: list[tuple[TopicPartition, int, int, datetime | None]] = []
            for tp in parts:
                next_offset, last_position = stored.get((tp.topic, tp.partition), (0, 0))
                last_time = None
                for offset, event in decoded[tp]:
                    if offset < next_offset:
                        continue
                    next_offset = offset + 1
                    if event is None:
                        continue
                    record = event.record  # its envelope, without Delivered's properties
                    if record.position > last_position:
                        fresh.append(event)
                        last_position = record.position
                        last_time = record.time
                moved.append((tp, next_offset, last_position, last_time))
            await apply_all(self.projection, conn, fresh)
            await conn.execute(
                f"INSERT INTO {self.schema}.projection_offsets "
                "(projection, topic, partition, next_offset, last_position, last_event_time) "
                "SELECT $1, * FROM unnest($2::text[], $3::integer[], $4::bigint[], $5::bigint[], "
                "$6::timestamptz[]) "
                "ON CONFLICT (projection, topic, partition) DO UPDATE "
                "SET next_offset = excluded.next_offset, last_position = excluded.last_position, "
                "last_event_time = coalesce(excluded.last_event_time, "
                "projection_offsets.last_event_time), updated_at = now()",
                self.projection.name,
                [tp.topic for tp, *_ in moved],
                [tp.partition for tp, *_ in moved],
                [offset for _, offset, _, _ in moved],
                [position for _, _, position, _ in moved],
                [time for *_, time in moved],
            )
        for tp, next_offset, _, _ in moved:
            self._next[tp] = next_offset
        return len(fresh)

    async def _committed(self, consumer: AIOKafkaConsumer) -> None:
        """Wait until the previous poll's transaction has committed (raising its error), then
        have its offsets reported to Kafka in the background."""
        task, self._inflight = self._inflight, None
        if task is None:
            return
        await task
        self._unreported.update(self._polled)
        if self._reporting is None or self._reporting.done():
            self._reporting = asyncio.create_task(self._report(consumer))

    async def _report(self, consumer: AIOKafkaConsumer) -> None:
        """Commit offsets already stored in PostgreSQL to Kafka, the newest per partition.

        Best effort, for lag tools only: the truth is the offset in PostgreSQL. It is a broker
        round trip, so it runs beside the poll loop rather than in it."""
        while self._unreported:
            offsets, self._unreported = self._unreported, {}
            with contextlib.suppress(Exception):
                await consumer.commit(offsets)

    async def _reported(self) -> None:
        """Let the last report finish before the consumer closes (bounded: best effort)."""
        task, self._reporting = self._reporting, None
        if task is not None:
            _, pending = await asyncio.wait([task], timeout=_REPORT_SECONDS)
            for late in pending:
                late.cancel()
                await asyncio.wait([late])
        self._unreported = {}

    async def settle(self) -> None:
        """Wait for the poll being written, if any (its error surfaces in :meth:`run`)."""
        if self._inflight is not None:
            await asyncio.wait([self._inflight])

    async def behind(self) -> int:
        """Records on the topics not yet applied (unknown before the first assignment: 1);
        with none, 1 while the projection has work put off until it caught up."""
        consumer = self._consumer
        if consumer is None or not consumer.assignment():
            return 1
        partitions = [
            TopicPartition(topic, partition)
            for topic in self.topics
            for partition in consumer.partitions_for_topic(topic) or ()
        ]
        ends = await consumer.end_offsets(partitions)
        stored = await self.stored_offsets()
        behind: int = sum(max(0, ends[tp] - stored.get(tp, (0, 0))[0]) for tp in partitions)
        put_off = deferring(self.projection)
        if not behind and put_off is not None:
            return int(await put_off.pending(self.pool))  # work still to do once caught up
        return behind

    async def _caught_up(self, consumer: AIOKafkaConsumer) -> None:
        """Nothing new on the topics: let a projection do the work it put off, if any, once
        the last poll's transaction has committed."""
        put_off = deferring(self.projection)
        if put_off is None or not await put_off.pending(self.pool):
            return
        await self._committed(consumer)
        async with self.pool.acquire() as conn, conn.transaction():
            await put_off.caught_up(conn)

    async def last_event_time(self) -> datetime | None:
        """The time of the newest event applied (for "seconds behind")."""
        value: datetime | None = await self.pool.fetchval(
            f"SELECT max(last_event_time) FROM {self.schema}.projection_offsets "
            "WHERE projection = $1",
            self.projection.name,
        )
        return value

    async def run(self, stop: asyncio.Event, *, rebuild: bool = False) -> None:
        """Consume until ``stop`` is set. ``rebuild`` empties the projection and starts at 0."""
        await self.setup()
        if rebuild:
            await self.reset()
        # What exists now (the app, its modules, the registry's validators) lives as long as
        # the process: frozen, it is left out of the cycle collector's full collections, which
        # each poll's thousands of decoded events set off (a fifth of a rebuild's time).
        gc.freeze()
        raise_young_threshold()  # for good: records pass for as long as the runner runs
        consumer = self.consumer_factory(self.group_id, self.topics)
        self._consumer = consumer
        consumer.subscribe(self.topics, listener=_SeekToStored(self))
        await consumer.start()
        log.info("projection.started", projection=self.projection.name, topics=self.topics)
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=self.batch_size)
                if not batches:
                    await self._caught_up(consumer)
                    continue
                # Decode this poll while the previous one is still being written (the
                # server's work overlaps ours); the transactions still commit in poll order.
                decoded = await self.decode_batches(batches)
                polled = _next_offsets(batches)
                # Records already fetched join this transaction while the previous one is
                # still open: far behind (a rebuild), fewer and larger transactions; up to
                # date, one poll each as before.
                for _ in range(_POLLS_PER_TRANSACTION - 1):
                    if self._inflight is None or self._inflight.done():
                        break
                    more = await consumer.getmany(timeout_ms=0, max_records=self.batch_size)
                    if not more:
                        break
                    for tp, items in (await self.decode_batches(more)).items():
                        decoded.setdefault(tp, []).extend(items)
                    polled.update(_next_offsets(more))
                await self._committed(consumer)
                self._inflight = asyncio.create_task(self._apply(decoded))
                self._polled = polled
                if _at_end(consumer, {**self._next, **polled}):
                    await self._caught_up(consumer)  # rather than after an empty poll's wait
            await self._committed(consumer)
        finally:
            await self.settle()
            self._inflight = None
            await self._reported()
            self._consumer = None
            await consumer.stop()
            log.info("projection.stopped", projection=self.projection.name)
