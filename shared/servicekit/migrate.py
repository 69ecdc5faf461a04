"""Moving an embedded installation (SQLite files) to the full topology (PostgreSQL, Kafka).

What the embedded default keeps that cannot be derived again is each service's event store
and its key vault (``<service>-events.sqlite``, ``<service>-keys.sqlite``); everything else
(views, replicas, the reports' projections) is rebuilt from the events. So the move is:

1. every event, as stored: same ids, positions, stream versions, times, actors, correlation
   and causation ids, command ids (a retried command stays idempotent), hashes. The events are
   inserted as they are, not appended again, so the hash chains verify unchanged; with them
   each command's fingerprint (a key reused for another request stays refused);
2. every key of the vault, and every tombstone: a forgotten member stays forgotten, and the
   others' personal data stays readable;
3. the accounts (usernames, roles, password hashes): staff and members sign in as before;
4. optionally (``publish``), the events to Kafka through the relay, as the relay process
   would (its checkpoint moves, so a relay started afterwards goes on from there).

Each service moves in one PostgreSQL transaction. While it runs, the source store is held
under SQLite's write lock, so an embedded app that still runs cannot append meanwhile (stop it
first: its next command would wait, then fail). A move that was interrupted can be run again:
it checks that the target holds the same history so far and copies the rest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias
from uuid import UUID

import aiosqlite
import asyncpg
from asyncpg.pool import PoolConnectionProxy

from access.accounts import AccountsPlace, AccountStore, UsernameTakenError, postgres_address
from eventspine.bus import SqliteTx
from eventspine.config import Settings
from eventspine.crypto import PostgresKeyStore
from eventspine.errors import SpineError
from eventspine.schemas import installed_registry
from eventspine.store.postgres import PostgresEventStore
from servicekit.runtime import open_relay
from topology.table import event_stores

SERVICES = event_stores()
"""The services that own an event store and a key vault (the reports service only projects)."""

_EVENT_COLUMNS = (
    "position, stream_id, stream_version, event_id, event_type, schema_version, time, "
    "recorded_at, actor, correlation_id, causation_id, command_id, data, prev_hash, hash"
)
_BATCH = 1000

Connection: TypeAlias = "asyncpg.Connection | PoolConnectionProxy[asyncpg.Record]"


class MigrationError(SpineError):
    """The source or the target is not what a move can continue from."""


def target_of(settings: Settings, *, to_kafka: bool = True) -> str:
    """Where a move writes, for the operator: always PostgreSQL (and Kafka), whatever
    ``SANLIAN_STORE_BACKEND`` says; no credentials."""
    schemas = ", ".join(settings.store_schema(service) for service in SERVICES)
    where = (
        f"PostgreSQL {postgres_address(settings.pg_dsn)}, schemas {schemas} "
        f"(accounts in {settings.store_schema('roster')})"
    )
    if to_kafka:
        topics = ", ".join(settings.topic(service) for service in SERVICES)
        where += f"; Kafka {settings.kafka_bootstrap}, topics {topics}"
    return where


async def move_accounts(target: AccountsPlace, folder: Path) -> int:
    """Copy the embedded installation's accounts to ``target`` (the roster's PostgreSQL
    schema); how many moved. A target that is the source itself is refused."""
    source_file = folder / "accounts.sqlite"
    if not source_file.is_file():
        return 0
    if target.path is not None and target.path.resolve() == source_file.resolve():
        raise MigrationError(f"the accounts' target is their source, {source_file}")
    target_store, close_target = await target.open()
    try:
        async with aiosqlite.connect(f"file:{source_file}?mode=ro", uri=True) as db:
            try:
                return await AccountStore(SqliteTx(db)).copy_to(target_store)
            except UsernameTakenError as exc:
                raise MigrationError(f"another account already holds username {exc}") from exc
    finally:
        await close_target()


@dataclass
class Moved:
    """What one service's move did."""

    service: str
    events: int
    """Events copied by this run."""
    already: int
    """Events the target held before (an interrupted move run again)."""
    keys: int
    tombstones: int
    commands: int = 0
    """Commands' fingerprints copied by this run."""
    published: int = 0
    accounts: int = 0
    """Accounts copied (the roster's move carries them)."""


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _uuid(value: str | None) -> UUID | None:
    return UUID(value) if value else None


def _event_row(row: Any) -> tuple[Any, ...]:
    (position, stream_id, version, event_id, name, schema_version, time, recorded_at) = row[:8]
    actor, correlation_id, causation_id, command_id, data, prev_hash, hash_ = row[8:]
    return (
        position,
        stream_id,
        version,
        UUID(event_id),
        name,
        schema_version,
        _time(time),
        _time(recorded_at),
        actor,
        UUID(correlation_id),
        _uuid(causation_id),
        _uuid(command_id),
        data,
        prev_hash,
        hash_,
    )


async def _rows(db: aiosqlite.Connection, sql: str, *args: Any) -> list[Any]:
    async with db.execute(sql, args) as cursor:
        return list(await cursor.fetchall())


async def _resume_from(source: aiosqlite.Connection, conn: Connection, table: str) -> int:
    """The target's head, after checking it holds the source's history up to there."""
    head = await conn.fetchrow(
        f"SELECT position, event_id, hash FROM {table} ORDER BY position DESC LIMIT 1"
    )
    if head is None:
        return 0
    found = await _rows(
        source, "SELECT event_id, hash FROM events WHERE position = ?", head["position"]
    )
    if not found or (UUID(found[0][0]), found[0][1]) != (head["event_id"], head["hash"]):
        raise MigrationError(
            f"{table} already holds events that are not this installation's (position "
            f"{head['position']}): move into an empty schema (SANLIAN_PG_SCHEMA_PREFIX)"
        )
    return int(head["position"])


async def _copy_events(
    source: aiosqlite.Connection, conn: Connection, schema: str
) -> tuple[int, int]:
    table = f"{schema}.events"
    start = await _resume_from(source, conn, table)
    placeholders = ", ".join(f"${i}" for i in range(1, 16)).replace("$13", "$13::jsonb")
    insert = f"INSERT INTO {table} ({_EVENT_COLUMNS}) VALUES ({placeholders})"
    copied, cursor = 0, start
    while True:
        rows = await _rows(
            source,
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
            cursor,
            _BATCH,
        )
        if not rows:
            break
        await conn.executemany(insert, [_event_row(row) for row in rows])
        copied += len(rows)
        cursor = rows[-1][0]
    return start, copied


async def _copy_commands(source: aiosqlite.Connection, conn: Connection, schema: str) -> int:
    """Copy the fingerprints of the commands the target lacks; how many were copied."""
    table = await _rows(
        source, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'commands'"
    )
    if not table:  # a store from before fingerprints were recorded
        return 0
    insert = (
        f"INSERT INTO {schema}.commands (command_id, fingerprint, recorded_at) "
        "SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) "
        "ON CONFLICT (command_id) DO NOTHING"
    )
    copied, cursor = 0, ""
    while True:
        rows = await _rows(
            source,
            "SELECT command_id, fingerprint, recorded_at FROM commands WHERE command_id > ? "
            "ORDER BY command_id LIMIT ?",
            cursor,
            _BATCH,
        )
        if not rows:
            return copied
        status = await conn.execute(
            insert,
            [UUID(row[0]) for row in rows],
            [row[1] for row in rows],
            [_time(row[2]) for row in rows],
        )
        copied += int(status.split()[-1])  # "INSERT 0 <rows>"
        cursor = rows[-1][0]


async def _copy_keys(path: Path | None, conn: Connection, schema: str) -> tuple[int, int]:
    """Copy keys and tombstones; a subject the target already has must agree with the source."""
    if path is None:  # the service never sealed anything
        return 0, 0
    table = f"{schema}.subject_keys"
    keys = tombstones = 0
    async with aiosqlite.connect(f"file:{path}?mode=ro", uri=True) as vault:
        rows = await _rows(
            vault, "SELECT subject_id, key, created_at, destroyed_at FROM subject_keys"
        )
    for subject_id, key, created_at, destroyed_at in rows:
        subject = UUID(subject_id)
        await conn.execute(
            f"INSERT INTO {table} (subject_id, key, created_at, destroyed_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (subject_id) DO NOTHING",
            subject,
            key,
            _time(created_at),
            _time(destroyed_at),
        )
        stored = await conn.fetchrow(
            f"SELECT key, destroyed_at IS NOT NULL AS destroyed FROM {table} WHERE subject_id = $1",
            subject,
        )
        if stored is None or (stored["key"], stored["destroyed"]) != (
            key,
            destroyed_at is not None,
        ):
            raise MigrationError(f"{table} holds another key for subject {subject}")
        if key is None:
            tombstones += 1
        else:
            keys += 1
    return keys, tombstones


async def move_service(settings: Settings, folder: Path, service: str) -> Moved:
    """Move one service's events and keys into its PostgreSQL schema (one transaction)."""
    events_file = folder / f"{service}-events.sqlite"
    keys_path = folder / f"{service}-keys.sqlite"
    keys_file = keys_path if keys_path.is_file() else None
    if not events_file.is_file():
        if service != SERVICES[0]:
            # A service the installation never ran (added to the system since): nothing of
            # it to move. Without the roster's store, the folder is not an installation.
            return Moved(service, 0, 0, 0, 0)
        raise MigrationError(f"no event store for {service}: {events_file} does not exist")
    store = PostgresEventStore(
        settings.pg_dsn,
        service,
        installed_registry(),
        schema=settings.store_schema(service),
        pool_size=2,
    )
    await store.open()  # the schema, as the service creates it
    try:
        await PostgresKeyStore(store.pool, store.schema).open()
        async with aiosqlite.connect(events_file, isolation_level=None) as source:
            await source.execute("PRAGMA busy_timeout=10000")
            try:
                # The write lock: nothing is appended to the source while it moves.
                await source.execute("BEGIN IMMEDIATE")
            except aiosqlite.OperationalError as exc:
                raise MigrationError(
                    f"{events_file} is busy ({exc}): stop the embedded app first"
                ) from exc
            try:
                async with store.pool.acquire() as conn, conn.transaction():
                    already, copied = await _copy_events(source, conn, store.schema)
                    commands = await _copy_commands(source, conn, store.schema)
                    keys, tombstones = await _copy_keys(keys_file, conn, store.schema)
                source_head = await _rows(source, "SELECT coalesce(max(position), 0) FROM events")
            finally:
                await source.execute("ROLLBACK")
        if await store.head_position() != source_head[0][0]:
            raise MigrationError(f"{service}: the target's head differs from the source's")
        return Moved(service, copied, already, keys, tombstones, commands)
    finally:
        await store.close()


async def publish(settings: Settings, service: str) -> int:
    """Send a service's stored events to its topic, as its relay does; return how many."""
    async with open_relay(settings, service) as relay:
        return await relay.drain()


async def migrate(settings: Settings, folder: Path, *, to_kafka: bool = True) -> list[Moved]:
    """Move every service of the embedded installation in ``folder`` to the PostgreSQL stores
    (and, with ``to_kafka``, the topics) that ``settings`` name: the target is PostgreSQL
    whatever their ``store_backend`` says (see :func:`target_of`)."""
    moved = [await move_service(settings, folder, service) for service in SERVICES]
    moved[0].accounts = await move_accounts(AccountsPlace.postgres(settings), folder)
    if to_kafka:
        for result in moved:
            result.published = await publish(settings, result.service)
    return moved


def summary(moved: list[Moved]) -> str:
    """One JSON line per service, for the command line."""
    return "\n".join(json.dumps(m.__dict__) for m in moved)
