"""Reports benchmarks: compliance rebuild from the topics, and the auditor's replay."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.table import Row
from contacts.events import ContactMade
from eventspine.config import Settings
from eventspine.events import DomainEvent
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from eventspine.replica import kafka_feed
from eventspine.schemas import installed_registry
from eventspine.store.base import AppendRequest, CommandContext, EventStore
from eventspine.store.postgres import PostgresEventStore, connect_pool
from reports.bootstrap import contact_rule
from reports.projections.aggregates import AggregatedCompliance
from roster.events import MemberAssigned, MemberRegistered, UnitRegistered

CTX = CommandContext(actor="bench")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


def _settings(dsn: str, bootstrap: str) -> Settings:
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    return Settings(
        store_backend="postgres",
        pg_dsn=dsn,
        kafka_bootstrap=bootstrap,
        topic_prefix=prefix,
        pg_schema_prefix=f"{prefix}_",
    )


async def _append(
    store: EventStore, streams: dict[str, list[DomainEvent]], batch: int = 500
) -> list[Any]:
    """Each stream created with its events, ``batch`` streams to an atomic append."""
    recorded: list[Any] = []
    items = list(streams.items())
    for start in range(0, len(items), batch):
        recorded += await store.append_many(
            [AppendRequest(s, 0, events) for s, events in items[start : start + batch]], CTX
        )
    return recorded


@asynccontextmanager
async def _roster_and_contacts(settings: Settings) -> AsyncIterator[tuple[EventStore, EventStore]]:
    """The roster's and the contacts service's PostgreSQL stores of ``settings``, open."""
    registry = installed_registry()
    roster = PostgresEventStore(
        settings.pg_dsn, "roster", registry, schema=settings.store_schema("roster")
    )
    contacts = PostgresEventStore(
        settings.pg_dsn, "contacts", registry, schema=settings.store_schema("contacts")
    )
    await roster.open()
    await contacts.open()
    try:
        yield roster, contacts
    finally:
        await roster.close()
        await contacts.close()


async def _synthetic_year(
    settings: Settings, links: int, per_link: int, *, publish: bool = True
) -> int:
    """Roster and contacts stores with ``links`` links and ``per_link`` contacts each."""
    async with _roster_and_contacts(settings) as (roster, contacts):
        unit = uuid.uuid4()
        await _append(
            roster,
            {f"unit-{unit}": [UnitRegistered(unit_id=unit, name="bench", kind="city_federation")]},
        )
        reps = [uuid.uuid4() for _ in range(max(1, links // 10))]
        workers = [uuid.uuid4() for _ in range(links)]

        def registered(member: uuid.UUID, tier: str) -> MemberRegistered:
            return MemberRegistered.model_validate(
                {
                    "member_id": member,
                    "unit_id": unit,
                    "tier": tier,
                    "personal_data": "v1.x",
                    "number_index": "0" * 64,
                    "registered_on": "2025-01-01",
                }
            )

        for start in range(0, len(reps + workers), 200):
            chunk = (reps + workers)[start : start + 200]
            await _append(
                roster,
                {
                    f"member-{m}": [registered(m, "representative" if m in reps else "worker")]
                    for m in chunk
                },
            )
        link_ids: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = []
        for start in range(0, links, 200):
            chunk = workers[start : start + 200]
            recorded = await _append(
                roster,
                {
                    f"link-{w}": [
                        MemberAssigned(
                            member_id=w,
                            upper_member_id=reps[(start + i) % len(reps)],
                            tier="worker",
                            assigned_on=date(2025, 6, 1),
                        )
                    ]
                    for i, w in enumerate(chunk)
                },
            )
            link_ids += [
                (e.id, UUID(e.data["upper_member_id"]), UUID(e.data["member_id"])) for e in recorded
            ]
        made = [
            ContactMade(
                contact_id=uuid.uuid4(),
                link_id=link,
                upper_member_id=upper,
                lower_member_id=lower,
                contacted_on=date(2026, 1 + k % 11, 1 + k % 28),
                method="visit",
                initiated_by="upper",
            )
            for link, upper, lower in link_ids
            for k in range(per_link)
        ]
        for start in range(0, len(made), 500):
            await _append(
                contacts, {f"contact-{c.contact_id}": [c] for c in made[start : start + 500]}
            )
        total = await roster.head_position() + await contacts.head_position()
        if not publish:
            return total
        producer = make_producer(settings)
        await producer.start()
        try:
            for service, store in (("roster", roster), ("contacts", contacts)):
                await ensure_topics(settings, [settings.topic(service)])
                await Relay(store, producer, settings.topic(service)).drain()
        finally:
            await producer.stop()
        return total


async def _raw_read(settings: Settings, topics: list[str]) -> int:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(await consumer._client._wait_on_metadata(t) or [])
        ]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        count = 0
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            for records in (await consumer.getmany(timeout_ms=200, max_records=2000)).values():
                count += len(records)
        return count
    finally:
        await consumer.stop()


async def rebuild_vs_consumer(dsn: str, bootstrap: str, links: int, per_link: int) -> Row:
    """Rebuild the compliance projection from offset 0 vs a raw consumer of the same topics."""
    settings = _settings(dsn, bootstrap)
    total = await _synthetic_year(settings, links, per_link)
    topics = [settings.topic("roster"), settings.topic("contacts")]
    started = time.perf_counter()
    read = await _raw_read(settings, topics)
    raw = read / (time.perf_counter() - started)
    assert read == total, (read, total)
    schema = settings.store_schema("reports")
    pool = await connect_pool(dsn, max_size=4)
    try:
        # As the reports service runs it: every record checked against its event type, the
        # records it cannot apply sent to the dead-letter topics, the detail rows and the
        # aggregates the pages read written in each batch's transaction.
        projection = AggregatedCompliance(contact_rule(settings), f"{schema}.")
        feed = await kafka_feed(settings, projection, pool, schema)
        started = time.perf_counter()
        await feed.start()
        caught_up = await feed.catch_up(600)
        ours = total / (time.perf_counter() - started)
        await feed.stop()
        assert caught_up
    finally:
        await _drop(pool, settings)
        await pool.close()
    return Row(
        "rebuild",
        f"5. compliance rebuild from topics, {total:,} events",
        "events/s",
        ours,
        raw,
        "aiokafka consumer",
        0.5,  # the broker's speed, as near as one Python process can take it
    )


async def _drop(pool: Any, settings: Settings) -> None:
    for row in await pool.fetch(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", settings.pg_schema_prefix + "%"
    ):
        await pool.execute(f"DROP SCHEMA {row[0]} CASCADE")


async def replay_vs_raw_read(dsn: str, links: int, per_link: int) -> Row:
    """The auditor's replay (read the stores, decode, rebuild the compliance view) vs a raw
    read of the same event rows."""
    from audit.replay import replay
    from audit.sources import read_postgres

    settings = _settings(dsn, "unused:9092")
    total = await _synthetic_year(settings, links, per_link, publish=False)
    pool = await connect_pool(dsn, max_size=2)
    try:
        started = time.perf_counter()
        read = 0
        for service in ("roster", "contacts"):
            rows = await pool.fetch(
                f"SELECT * FROM {settings.store_schema(service)}.events ORDER BY position"
            )
            read += len(rows)
        raw = read / (time.perf_counter() - started)
        started = time.perf_counter()
        history = await read_postgres(settings, ("roster", "contacts"))
        await replay(history, installed_registry(), contact_rule(settings), "2026")
        ours = total / (time.perf_counter() - started)
    finally:
        await _drop(pool, settings)
        await pool.close()
    return Row(
        "replay",
        f"7. auditor replay into compliance, {total:,} events",
        "events/s",
        ours,
        raw,
        "asyncpg SELECT of the rows",
        0.5,
    )


async def rebuild_growth(
    dsn: str, bootstrap: str, links: int, scales: tuple[int, ...]
) -> list[Row]:
    """Row 5 as the topics grow: the rebuild rate at ``scale`` times the data vs at 1x."""
    base = await rebuild_vs_consumer(dsn, bootstrap, links=links, per_link=6)
    rows = []
    for scale in scales:
        grown = await rebuild_vs_consumer(dsn, bootstrap, links=links * scale, per_link=6)
        events = grown.workload.split(", ")[-1]
        rows.append(
            Row(
                f"growth_rebuild_{scale}x",
                f"8. growth: compliance rebuild at {scale}x, {events}",
                "events/s",
                grown.ours,
                base.ours,
                f"same at 1x ({base.workload.split(', ')[-1]})",
                0.8,
                {"raw_consumer": grown.baseline},
            )
        )
    return rows
