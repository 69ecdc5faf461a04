"""Where an audit reads the history from: the event stores, the Kafka topics, an export file.

Every reader is read-only: the stores are queried with plain ``SELECT`` (opening them through
:class:`~eventspine.store.base.EventStore` would run their DDL), SQLite files are opened in
``mode=ro`` and topics are read by a consumer without a group (it commits nothing).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic_core import from_json

from audit.heap import collector_paused
from eventspine.config import Settings
from eventspine.envelope import RecordedEvent
from eventspine.store.postgres import checked_schema
from topology.table import event_stores

SERVICES = event_stores()
"""The services that own an event store (the reports service only projects)."""

_COLUMNS = (
    "position, stream_id, stream_version, event_id, event_type, schema_version, time, actor, "
    "correlation_id, causation_id, command_id, data, prev_hash, hash"
)


_PG_COLUMNS = (
    "position, stream_id, stream_version, event_id::text, event_type, schema_version, time, "
    "actor, correlation_id::text, causation_id::text, command_id::text, data::text, prev_hash, "
    "hash"
)
"""The same columns from PostgreSQL, ids and data as text: the envelope's validator parses
ids faster than Python turns asyncpg's UUIDs into plain ones."""


class AuditInputError(Exception):
    """Bad input from the auditor (unknown topic, missing store, corrupt file): exit code 2."""


@dataclass
class TopicRecord:
    """An event as read from a topic, with where it sat."""

    event: RecordedEvent
    partition: int
    offset: int


@dataclass
class History:
    """The events of each service, in position order, as one source holds them.

    ``records`` (topics only) keeps every record read, duplicates included, for the checks
    that compare offsets; ``events`` holds one event per position; ``heads`` holds the relay
    checkpoints of a store (the highest position the relay says it published).
    """

    origin: str
    events: dict[str, list[RecordedEvent]] = field(default_factory=dict)
    records: dict[str, list[TopicRecord]] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    undecodable: list[tuple[str, str]] = field(default_factory=list)
    relay_checkpoints: dict[str, int] = field(default_factory=dict)

    def all_events(self) -> list[RecordedEvent]:
        """Every event, service by service, each in position order."""
        return [event for service in sorted(self.events) for event in self.events[service]]


READ_BATCH = 5000
"""Rows fetched from a store at a time (the next batch is read while this one is checked)."""


def _event(service: str, row: Any) -> RecordedEvent:
    """A stored row as the event it records, checked by the envelope's own validator (called
    directly: the keyword checks of ``RecordedEvent(...)`` cost as much again); the data is
    parsed by pydantic-core's JSON parser, several times faster than :func:`json.loads`
    (orjson is quicker still, but reads an integer beyond 64 bits as a float)."""
    time = row[6]
    event: RecordedEvent = _VALIDATE(
        {
            "position": row[0],
            "stream_id": row[1],
            "stream_version": row[2],
            "id": row[3],
            "event_type": row[4],
            "schema_version": row[5],
            "time": time if isinstance(time, datetime) else datetime.fromisoformat(time),
            "actor": row[7],
            "correlation_id": row[8],
            "causation_id": row[9] or None,
            "command_id": row[10] or None,
            "data": from_json(row[11]),
            "prev_hash": row[12],
            "hash": row[13],
            "service": service,
        }
    )
    return event


_VALIDATE = RecordedEvent.__pydantic_validator__.validate_python


def _may_be_absent(service: str, services: tuple[str, ...]) -> bool:
    """A service the installation never ran (added to the system since) has no store yet:
    nothing of it to verify, and it is left out of the history. The roster's store is always
    there, or this is no installation."""
    return service != SERVICES[0] and len(services) > 1


async def _postgres_stores(
    settings: Settings, services: tuple[str, ...]
) -> AsyncGenerator[tuple[asyncpg.Connection, str, str], None]:
    """Each service with its store's schema and the connection that reads it, all in one
    read-only snapshot; a store the installation may lack and does lack is left out."""
    try:
        conn = await asyncpg.connect(settings.pg_dsn)
    except (OSError, asyncpg.PostgresError) as exc:
        raise AuditInputError(f"cannot connect to PostgreSQL: {exc}") from exc
    try:
        async with conn.transaction(readonly=True, isolation="repeatable_read"):
            for service in services:
                schema = checked_schema(settings.store_schema(service))
                if not await conn.fetchval("SELECT to_regclass($1)", f"{schema}.events"):
                    if _may_be_absent(service, services):
                        continue
                    raise AuditInputError(f"no event store for {service}: {schema}.events")
                yield conn, service, schema
    finally:
        await conn.close()


async def read_postgres(settings: Settings, services: tuple[str, ...] = SERVICES) -> History:
    """Every event of each service's PostgreSQL store (schema ``store_schema(service)``)."""
    history = History("stores")
    with collector_paused():
        async with aclosing(_postgres_stores(settings, services)) as stores:
            async for conn, service, schema in stores:
                events: list[RecordedEvent] = []
                query = f"SELECT {_PG_COLUMNS} FROM {schema}.events ORDER BY position"
                async with aclosing(_rows_ahead(conn, query, READ_BATCH)) as batches:
                    async for rows in batches:
                        events += [_event(service, row) for row in rows]
                history.events[service] = events
                checkpoints = await conn.fetch(
                    f"SELECT name, position FROM {schema}.checkpoints WHERE name LIKE 'relay:%'"
                )
                history.relay_checkpoints[service] = max((r[1] for r in checkpoints), default=0)
    return history


async def stream_postgres(
    settings: Settings, services: tuple[str, ...] = SERVICES, batch: int = 5000
) -> AsyncGenerator[tuple[str, list[RecordedEvent]], None]:
    """Each service's PostgreSQL store as :func:`read_postgres` reads it, ``batch`` events at
    a time through a cursor (in one read-only snapshot): a replay of any length holds one
    batch in memory, never the whole history."""
    # aclosing: a replay that stops early still ends the snapshot and closes the connection
    async with aclosing(_postgres_stores(settings, services)) as stores:
        async for conn, service, schema in stores:
            query = f"SELECT {_PG_COLUMNS} FROM {schema}.events ORDER BY position"
            async with aclosing(_rows_ahead(conn, query, batch)) as batches:
                async for rows in batches:
                    yield service, [_event(service, row) for row in rows]


async def _rows_ahead(
    conn: asyncpg.Connection, query: str, batch: int
) -> AsyncGenerator[list[Any], None]:
    """The rows of ``query`` through a cursor, ``batch`` at a time (the last batch shorter,
    maybe empty), each batch asked for before the previous one is handed out: the server
    reads and sends it while the caller checks the previous one, instead of both waiting in
    turn. One fetch at a time is in flight, as a connection allows."""
    cursor = await conn.cursor(query)
    ahead: asyncio.Future[list[Any]] | None = asyncio.ensure_future(cursor.fetch(batch))
    try:
        while ahead is not None:
            rows = await ahead
            ahead = None
            if len(rows) == batch:
                ahead = asyncio.ensure_future(cursor.fetch(batch))
                await asyncio.sleep(0)  # the fetch sends its request before the caller works
            yield rows
    finally:
        if ahead is not None:  # the caller stopped early: the connection is free once it ends
            await asyncio.gather(ahead, return_exceptions=True)


async def read_sqlite(settings: Settings, services: tuple[str, ...] = SERVICES) -> History:
    """Every event of each service's SQLite file (``<sqlite_dir>/<service>-events.sqlite``)."""
    history = History("stores")
    with collector_paused():
        for service in services:
            path = Path(settings.sqlite_dir) / f"{service}-events.sqlite"
            if not path.is_file():
                if _may_be_absent(service, services):
                    continue
                raise AuditInputError(f"no event store for {service}: {path} does not exist")
            async with aiosqlite.connect(f"file:{path}?mode=ro", uri=True) as db:
                cursor = await db.execute(f"SELECT {_COLUMNS} FROM events ORDER BY position")
                rows = await cursor.fetchall()
                history.events[service] = [_event(service, row) for row in rows]
                cursor = await db.execute(
                    "SELECT coalesce(max(position), 0) FROM checkpoints WHERE name LIKE 'relay:%'"
                )
                row = await cursor.fetchone()
                history.relay_checkpoints[service] = int(row[0]) if row else 0
    return history


async def read_stores(settings: Settings, services: tuple[str, ...] = SERVICES) -> History:
    """The stores of the configured backend (``SANLIAN_STORE_BACKEND``)."""
    if settings.store_backend == "postgres":
        return await read_postgres(settings, services)
    return await read_sqlite(settings, services)


def _consumer(settings: Settings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"{settings.kafka_client_id}-audit",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        request_timeout_ms=15_000,
    )


async def read_topics(settings: Settings, services: tuple[str, ...] = SERVICES) -> History:
    """Every record of each service topic from offset 0 to its current end.

    One consumer per topic, without a group: it commits nothing and disturbs no one.
    """
    history = History("topics")
    for service in services:
        consumer = _consumer(settings)
        try:
            await consumer.start()
        except Exception as exc:  # aiokafka raises its own KafkaConnectionError
            raise AuditInputError(
                f"cannot reach Kafka at {settings.kafka_bootstrap}: {exc}"
            ) from exc
        try:
            topic = settings.topic(service)
            if topic not in await consumer.topics():
                raise AuditInputError(f"unknown topic {topic!r} (service {service})")
            with collector_paused():
                await _read_topic(consumer, topic, service, history)
        finally:
            await consumer.stop()
    return history


async def _read_topic(
    consumer: AIOKafkaConsumer, topic: str, service: str, history: History
) -> None:
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:  # the consumer's metadata does not hold topics it never looked at
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        raise AuditInputError(f"topic {topic!r} has no partitions")
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    ends = await consumer.end_offsets(tps)
    records: list[TopicRecord] = []
    while any([await consumer.position(tp) < ends[tp] for tp in tps]):
        batch = await consumer.getmany(timeout_ms=500)
        for tp, items in batch.items():
            for item in items:
                try:
                    event = RecordedEvent.from_kafka(item.headers, item.value)
                except (KeyError, ValueError) as exc:
                    where = f"{topic} partition {tp.partition} offset {item.offset}"
                    history.undecodable.append((where, f"not a Sanlian CloudEvent: {exc}"))
                    continue
                records.append(TopicRecord(event, tp.partition, item.offset))
    records.sort(key=lambda r: (r.partition, r.offset))
    history.records[service] = records
    unique: dict[int, RecordedEvent] = {}
    for record in records:
        unique.setdefault(record.event.position, record.event)
    history.duplicates[service] = len(records) - len(unique)
    history.events[service] = [unique[p] for p in sorted(unique)]
