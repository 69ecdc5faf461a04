"""The consumer runner: feeds a projection from Kafka, with its offsets stored beside its rows.

For each batch of one partition, one PostgreSQL transaction applies the events and records
the next offset and the last applied position. A crash before commit applies nothing of the
batch; a restart seeks to the stored offset. Records the relay published twice (it may, after
a crash) carry a position already applied on that partition and are skipped: one stream always
maps to one partition, and the relay publishes positions in increasing order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord

from eventspine.deadletter import DeadLetters, decode
from eventspine.envelope import RecordedEvent
from eventspine.events import EventRegistry
from eventspine.projection import Projection
from eventspine.store.postgres import checked_schema

log = structlog.get_logger(__name__)

ConsumerFactory = Callable[[str, list[str]], AIOKafkaConsumer]


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


async def apply_all(projection: Projection, tx: Any, events: list[RecordedEvent]) -> None:
    """Apply events in order, in one call when the projection can take a batch."""
    apply_many = getattr(projection, "apply_many", None)
    if apply_many is not None:
        await apply_many(tx, events)
        return
    for event in events:
        await projection.apply(tx, event)


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, continue each partition from the offset stored with the projection."""

    def __init__(self, runner: ProjectionRunner) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        """Nothing to flush: every applied batch is already committed in PostgreSQL."""

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self.runner.seek_assigned(list(assigned))


class ProjectionRunner:
    """Runs one projection against Kafka topics, storing its rows and offsets in PostgreSQL."""

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
        self.registry = registry
        self.dead_letters = dead_letters
        self._consumer: AIOKafkaConsumer | None = None

    async def setup(self) -> None:
        """Create the offsets table and the projection's tables."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('sanlian.migrate'))")
            await conn.execute(offsets_ddl(self.schema))
            await self.projection.setup(conn)

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
            if tp in stored:
                consumer.seek(tp, stored[tp][0])
        if fresh:
            await consumer.seek_to_beginning(*fresh)

    async def apply_records(
        self, tp: TopicPartition, records: list[ConsumerRecord[Any, Any]]
    ) -> int:
        """Apply one partition's batch in one transaction; return how many events it applied."""
        applied = 0
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"SELECT next_offset, last_position FROM {self.schema}.projection_offsets "
                "WHERE projection = $1 AND topic = $2 AND partition = $3 FOR UPDATE",
                self.projection.name,
                tp.topic,
                tp.partition,
            )
            next_offset, last_position = (row[0], row[1]) if row else (0, 0)
            last_time = None
            fresh: list[RecordedEvent] = []
            for record in records:
                if record.offset < next_offset:
                    continue  # already applied: a seek raced with a rebalance
                try:
                    event = decode(record, self.registry)
                except (ValueError, KeyError) as exc:
                    if self.dead_letters is None:
                        raise
                    await self.dead_letters.send(record, str(exc))
                    next_offset = record.offset + 1
                    continue
                if event.position > last_position:
                    fresh.append(event)
                    last_position = event.position
                    last_time = event.time
                next_offset = record.offset + 1
            await apply_all(self.projection, conn, fresh)
            applied = len(fresh)
            await conn.execute(
                f"INSERT INTO {self.schema}.projection_offsets "
                "(projection, topic, partition, next_offset, last_position, last_event_time) "
                "VALUES ($1, $2, $3, $4, $5, $6) "
                "ON CONFLICT (projection, topic, partition) DO UPDATE "
                "SET next_offset = excluded.next_offset, last_position = excluded.last_position, "
                "last_event_time = coalesce(excluded.last_event_time, "
                "projection_offsets.last_event_time), updated_at = now()",
                self.projection.name,
                tp.topic,
                tp.partition,
                next_offset,
                last_position,
                last_time,
            )
        return applied

    async def behind(self) -> int:
        """Records on the topics not yet applied (unknown before the first assignment: 1)."""
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
        return sum(max(0, ends[tp] - stored.get(tp, (0, 0))[0]) for tp in partitions)

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
        consumer = self.consumer_factory(self.group_id, self.topics)
        self._consumer = consumer
        consumer.subscribe(self.topics, listener=_SeekToStored(self))
        await consumer.start()
        log.info("projection.started", projection=self.projection.name, topics=self.topics)
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=self.batch_size)
                for tp, records in batches.items():
                    await self.apply_records(tp, records)
                    # Best effort, for lag tools only: the truth is the offset in PostgreSQL.
                    with contextlib.suppress(Exception):
                        await consumer.commit({tp: records[-1].offset + 1})
        finally:
            self._consumer = None
            await consumer.stop()
            log.info("projection.stopped", projection=self.projection.name)
