"""Event spine throughput: store appends vs raw INSERTs, relay vs a raw producer."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from eventspine.config import Settings
from eventspine.envelope import RecordedEvent
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from eventspine.schemas import installed_registry
from eventspine.store.base import NO_STREAM, CommandContext
from eventspine.store.postgres import PostgresEventStore, connect_pool
from roster.events import MemberAssigned


@dataclass
class Result:
    """One measured comparison."""

    name: str
    ours: float
    raw: float
    target: float | None

    @property
    def ratio(self) -> float:
        """Our rate over the raw baseline's."""
        return self.ours / self.raw

    def line(self) -> str:
        """A printable row."""
        if self.target is None:
            verdict = "(no target)"
        else:
            met = "meets" if self.ratio >= self.target else "BELOW"
            verdict = f"(target >= {self.target:.1f}: {met})"
        return (
            f"{self.name:<48} {self.ours:>10,.0f}/s {self.raw:>10,.0f}/s "
            f"{self.ratio:>6.2f} {verdict}"
        )


def _event() -> MemberAssigned:
    return MemberAssigned(
        member_id=uuid.uuid4(),
        upper_member_id=uuid.uuid4(),
        tier="worker",
        assigned_on=date(2026, 3, 1),
    )


async def _timed(count: int, work: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await work()
    return count / (time.perf_counter() - started)


async def _spread(total: int, writers: int, one: Callable[[int], Awaitable[None]]) -> None:
    async def writer(first: int) -> None:
        for index in range(first, total, writers):
            await one(index)

    await asyncio.gather(*(writer(w) for w in range(writers)))


async def store_vs_insert(dsn: str, events: int, writers: int) -> Result:
    """Appends of one event each (own stream) vs single-row INSERTs of the same rows."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    store = PostgresEventStore(
        dsn, "roster", installed_registry(), schema=schema, pool_size=writers
    )
    await store.open()
    # The baseline gets the same pool (no reset round trip per release) as the store.
    pool = await connect_pool(dsn, min_size=writers, max_size=writers)
    try:
        ctx = CommandContext(actor="bench")
        payloads = [_event() for _ in range(events)]

        async def append(index: int) -> None:
            await store.append(f"member-{index}", NO_STREAM, [payloads[index]], ctx)

        ours = await _timed(events, lambda: _spread(events, writers, append))
        rows = await store.read_all(0, events)
        await pool.execute(f"CREATE TABLE {schema}.raw (LIKE {schema}.events INCLUDING ALL)")
        sql = (
            f"INSERT INTO {schema}.raw (position, stream_id, stream_version, event_id, "
            "event_type, schema_version, time, actor, correlation_id, causation_id, command_id, "
            "data, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12::jsonb,$13,$14)"
        )
        args = [
            (
                e.position,
                e.stream_id,
                e.stream_version,
                e.id,
                e.event_type,
                e.schema_version,
                e.time,
                e.actor,
                e.correlation_id,
                e.causation_id,
                e.command_id,
                json.dumps(e.data),
                e.prev_hash,
                e.hash,
            )
            for e in rows
        ]

        async def insert(index: int) -> None:
            await pool.execute(sql, *args[index])

        raw = await _timed(events, lambda: _spread(events, writers, insert))
        return Result(f"store append, {writers} writer(s) [events]", ours, raw, 0.5)
    finally:
        await pool.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()
        await store.close()


async def relay_vs_producer(dsn: str, bootstrap: str, events: int) -> Result:
    """The relay draining a store vs a raw idempotent producer sending the same records."""
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    settings = Settings(pg_dsn=dsn, kafka_bootstrap=bootstrap, topic_prefix=prefix)
    schema = f"{prefix}_roster"
    store = PostgresEventStore(dsn, "roster", installed_registry(), schema=schema, pool_size=4)
    await store.open()
    ctx = CommandContext(actor="bench")
    for start in range(0, events, 100):
        await store.append(f"member-{start}", NO_STREAM, [_event() for _ in range(100)], ctx)
    ours_topic, raw_topic = settings.topic("roster"), f"{prefix}.raw.events"
    await ensure_topics(settings, [ours_topic, raw_topic])
    producer = make_producer(settings)
    await producer.start()
    try:
        # New topics elect their partition leaders first; measure sending, not the election.
        for topic in (ours_topic, raw_topic):
            for partition in sorted(await producer.partitions_for(topic)):
                await producer.send_and_wait(topic, b"{}", key=b"warm-up", partition=partition)
        relay = Relay(store, producer, ours_topic, batch_size=settings.relay_batch_size)
        ours = await _timed(events, relay.drain)
        records: list[RecordedEvent] = await store.read_all(0, events)
        prepared = [(r.kafka_value(), r.stream_id.encode(), r.kafka_headers()) for r in records]

        async def send_all() -> None:
            for start in range(0, events, settings.relay_batch_size):
                batch = prepared[start : start + settings.relay_batch_size]
                sends = [
                    await producer.send(raw_topic, value=v, key=k, headers=h) for v, k, h in batch
                ]
                await asyncio.gather(*sends)

        raw = await _timed(events, send_all)
        return Result("relay publish [events]", ours, raw, 0.7)
    finally:
        await producer.stop()
        async with store.pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await store.close()
