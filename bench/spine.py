"""Event spine throughput: store appends vs raw INSERTs, relay vs a raw producer."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date

from bench.table import Row
from eventspine.config import Settings
from eventspine.envelope import RecordedEvent
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from eventspine.schemas import installed_registry
from eventspine.store.base import NO_STREAM, AppendRequest, CommandContext
from eventspine.store.postgres import PostgresEventStore, connect_pool
from roster.events import MemberAssigned


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


async def store_vs_insert(dsn: str, events: int, writers: int) -> Row:
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
        warm = max(writers * 2, events // 10)  # warm-ups: pool connections, prepared statements
        payloads = [_event() for _ in range(warm + events)]

        async def append(index: int) -> None:
            await store.append(f"member-{index}", NO_STREAM, [payloads[index]], ctx)

        await _spread(warm, writers, append)
        ours = await _timed(events, lambda: _spread(events, writers, lambda i: append(warm + i)))
        rows = await store.read_all(0, warm + events)
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

        await _spread(warm, writers, insert)
        raw = await _timed(events, lambda: _spread(events, writers, lambda i: insert(warm + i)))
        return Row(
            f"store_append_{writers}w",
            f"1. store append, {writers} writer(s), {events:,} events on distinct streams",
            "events/s",
            ours,
            raw,
            "asyncpg INSERT",
            0.5,
        )
    finally:
        await pool.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()
        await store.close()


async def relay_vs_producer(dsn: str, bootstrap: str, events: int) -> Row:
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
        return Row(
            "relay",
            f"4. relay publish, {events:,} events",
            "events/s",
            ours,
            raw,
            "aiokafka producer",
            0.7,
        )
    finally:
        await producer.stop()
        async with store.pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await store.close()


async def append_growth(dsn: str, events: int, scales: tuple[int, ...], writers: int) -> list[Row]:
    """Row 1 as the store grows: ``events`` appends by ``writers`` writers into an empty store
    (the baseline), then again once the store holds ``scale`` times as many events."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    store = PostgresEventStore(
        dsn, "roster", installed_registry(), schema=schema, pool_size=writers
    )
    await store.open()
    ctx = CommandContext(actor="bench")
    try:

        async def measure() -> float:
            payloads = [_event() for _ in range(events)]
            prefix = uuid.uuid4().hex[:8]

            async def append(index: int) -> None:
                await store.append(f"member-{prefix}-{index}", NO_STREAM, [payloads[index]], ctx)

            return await _timed(events, lambda: _spread(events, writers, append))

        base = await measure()
        rows = []
        for scale in scales:
            while (held := await store.head_position()) < scale * events:
                batch = min(1000, scale * events - held)
                await store.append_many(
                    [
                        AppendRequest(f"member-{uuid.uuid4()}", NO_STREAM, [_event()])
                        for _ in range(batch)
                    ],
                    ctx,
                )
            rows.append(
                Row(
                    f"growth_append_{scale}x",
                    f"8. growth: store append, {writers} writers, store at {scale}x "
                    f"({scale * events:,} events held)",
                    "events/s",
                    await measure(),
                    base,
                    f"same, empty store ({events:,})",
                    0.8,
                )
            )
        return rows
    finally:
        async with store.pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await store.close()
