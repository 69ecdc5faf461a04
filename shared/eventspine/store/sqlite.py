"""The SQLite event store of the embedded default (one file, one process).

It keeps the PostgreSQL store's contract: appends are serialised (an asyncio lock inside the
process, ``BEGIN IMMEDIATE`` across processes), so positions are gap-free and in commit order.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import aiosqlite

from eventspine.envelope import GENESIS_HASH, OutboxRecord, RecordedEvent, format_time
from eventspine.errors import ConcurrencyError, IdempotencyConflictError
from eventspine.events import EventRegistry
from eventspine.hashing import chain_hash
from eventspine.store.base import (
    OUTBOX_COLUMNS,
    AppendRequest,
    Clock,
    CommandContext,
    EventStore,
    PreparedEvent,
    check_fingerprint,
    outbox_record,
    utc_now,
    validate_stream_id,
)

_DDL = """
CREATE TABLE IF NOT EXISTS events (
    position        INTEGER PRIMARY KEY,
    stream_id       TEXT NOT NULL,
    stream_version  INTEGER NOT NULL,
    event_id        TEXT NOT NULL UNIQUE,
    event_type      TEXT NOT NULL,
    schema_version  INTEGER NOT NULL,
    time            TEXT NOT NULL,
    recorded_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor           TEXT NOT NULL,
    correlation_id  TEXT NOT NULL,
    causation_id    TEXT,
    command_id      TEXT,
    data            TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE INDEX IF NOT EXISTS events_command_id ON events (command_id) WHERE command_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS checkpoints (
    name      TEXT PRIMARY KEY,
    position  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS commands (
    command_id   TEXT PRIMARY KEY,
    fingerprint  TEXT,
    recorded_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable: append a correcting event instead'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable: append a correcting event instead'); END;
"""
_COLUMNS = (
    "position, stream_id, stream_version, event_id, event_type, schema_version, time, actor, "
    "correlation_id, causation_id, command_id, data, prev_hash, hash"
)


def _uuid(value: str | None) -> UUID | None:
    return UUID(value) if value else None


class SqliteEventStore(EventStore):
    """Event store in one SQLite file.

    Appends go through a writer connection; reads use a second connection, so a reader (the
    relay, a projection) only ever sees committed events, never an append still in progress.
    """

    def __init__(
        self, path: str, service: str, registry: EventRegistry, *, clock: Clock = utc_now
    ) -> None:
        super().__init__(service, registry, clock)
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    @property
    def db(self) -> aiosqlite.Connection:
        """The open connection."""
        if self._db is None:
            raise RuntimeError("the event store is not open")
        return self._db

    async def open(self) -> None:
        """Open the file (WAL, so readers never block the writer) and create the tables."""
        if self._db is not None:
            return
        if self.path == ":memory:" or "mode=memory" in self.path:
            raise ValueError(
                "the SQLite event store needs a file: readers use their own connection"
            )
        self._db = await aiosqlite.connect(self.path, isolation_level=None)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=FULL")  # an acknowledged append survives a crash
        await self._db.execute("PRAGMA busy_timeout=10000")
        await self._db.executescript(_DDL)
        self._reader = await aiosqlite.connect(self.path, isolation_level=None)
        await self._reader.execute("PRAGMA busy_timeout=10000")

    async def close(self) -> None:
        """Close the file."""
        for conn in (self._reader, self._db):
            if conn is not None:
                await conn.close()
        self._db = self._reader = None

    async def _append(
        self,
        requests: Sequence[AppendRequest],
        prepared: list[PreparedEvent],
        context: CommandContext,
    ) -> list[RecordedEvent]:
        async with self._lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                result = await self._append_locked(requests, prepared, context)
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")
            return result

    async def _append_locked(
        self,
        requests: Sequence[AppendRequest],
        prepared: list[PreparedEvent],
        context: CommandContext,
    ) -> list[RecordedEvent]:
        if context.command_id is not None:
            rows = await self._fetch(
                f"SELECT {_COLUMNS} FROM events WHERE command_id = ? ORDER BY position",
                str(context.command_id),
                writer=True,
            )
            if rows:
                check_fingerprint(context, await self._fingerprint(context.command_id, True))
                events = [self._event(row) for row in rows]
                recorded = {e.stream_id for e in events}
                for request in requests:
                    if request.stream_id not in recorded:
                        raise IdempotencyConflictError(
                            str(context.command_id),
                            request.stream_id,
                            ", ".join(sorted(recorded)),
                        )
                return events
        heads: list[tuple[int, str]] = []
        for request in requests:
            rows = await self._fetch(
                "SELECT stream_version, hash FROM events WHERE stream_id = ? "
                "ORDER BY stream_version DESC LIMIT 1",
                request.stream_id,
                writer=True,
            )
            version, head = (rows[0][0], rows[0][1]) if rows else (0, GENESIS_HASH)
            if version != request.expected_version:
                raise ConcurrencyError(request.stream_id, request.expected_version, version)
            heads.append((version, head))
        position = await self._head(writer=True)
        recorded_events: list[RecordedEvent] = []
        for p in prepared:
            version, prev = heads[p.stream_index]
            version += 1
            position += 1
            digest_hash = chain_hash(prev, p.digest)
            event = RecordedEvent(
                id=p.event_id,
                service=self.service,
                event_type=p.event_type,
                schema_version=p.schema_version,
                time=p.time,
                stream_id=p.stream_id,
                stream_version=version,
                position=position,
                actor=context.actor,
                correlation_id=context.correlation_id,
                causation_id=context.causation_id,
                command_id=context.command_id,
                data=p.data,
                prev_hash=prev,
                hash=digest_hash,
            )
            await self.db.execute(
                f"INSERT INTO events ({_COLUMNS}) VALUES ({', '.join('?' * 14)})",
                (
                    position,
                    p.stream_id,
                    version,
                    str(p.event_id),
                    p.event_type,
                    p.schema_version,
                    format_time(p.time),
                    context.actor,
                    str(context.correlation_id),
                    str(context.causation_id) if context.causation_id else None,
                    str(context.command_id) if context.command_id else None,
                    json.dumps(p.data, ensure_ascii=False),
                    prev,
                    digest_hash,
                ),
            )
            heads[p.stream_index] = (version, digest_hash)
            recorded_events.append(event)
        if context.command_id is not None:
            await self.db.execute(
                "INSERT INTO commands (command_id, fingerprint) VALUES (?, ?)",
                (str(context.command_id), context.fingerprint),
            )
        return recorded_events

    async def _fetch(self, sql: str, *args: Any, writer: bool = False) -> list[Any]:
        conn = self.db if writer else self._reader
        if conn is None:
            raise RuntimeError("the event store is not open")
        async with conn.execute(sql, args) as cursor:
            return list(await cursor.fetchall())

    async def _head(self, writer: bool = False) -> int:
        rows = await self._fetch("SELECT coalesce(max(position), 0) FROM events", writer=writer)
        return int(rows[0][0])

    def _event(self, row: Any) -> RecordedEvent:
        return RecordedEvent(
            position=row[0],
            stream_id=row[1],
            stream_version=row[2],
            id=UUID(row[3]),
            event_type=row[4],
            schema_version=row[5],
            time=datetime.fromisoformat(row[6]),
            actor=row[7],
            correlation_id=UUID(row[8]),
            causation_id=_uuid(row[9]),
            command_id=_uuid(row[10]),
            data=json.loads(row[11]),
            prev_hash=row[12],
            hash=row[13],
            service=self.service,
        )

    async def applied(self, command_id: UUID) -> list[RecordedEvent]:
        """The events a command id already appended."""
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM events WHERE command_id = ? ORDER BY position", str(command_id)
        )
        return [self._event(row) for row in rows]

    async def fingerprint(self, command_id: UUID) -> str | None:
        """The fingerprint recorded with a command id's first append."""
        return await self._fingerprint(command_id)

    async def _fingerprint(self, command_id: UUID, writer: bool = False) -> str | None:
        rows = await self._fetch(
            "SELECT fingerprint FROM commands WHERE command_id = ?", str(command_id), writer=writer
        )
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        """A stream's events in version order."""
        validate_stream_id(stream_id)
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = ? AND stream_version >= ? "
            "ORDER BY stream_version",
            stream_id,
            from_version,
        )
        return [self._event(row) for row in rows]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Events after a global position, in position order."""
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
            after_position,
            limit,
        )
        return [self._event(row) for row in rows]

    async def read_outbox(self, after_position: int = 0, limit: int = 1000) -> list[OutboxRecord]:
        """Events after a global position as Kafka records, in position order."""
        rows = await self._fetch(
            f"SELECT {OUTBOX_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
            after_position,
            limit,
        )
        return [outbox_record(self.service, row) for row in rows]

    async def head_position(self) -> int:
        """Highest stored position."""
        return await self._head()

    async def load_checkpoint(self, name: str) -> int:
        """A reader's saved position."""
        rows = await self._fetch("SELECT position FROM checkpoints WHERE name = ?", name)
        return int(rows[0][0]) if rows else 0

    async def save_checkpoint(self, name: str, position: int) -> None:
        """Save a reader's position, never moving it backwards."""
        async with self._lock:  # never inside an append's open transaction on the writer
            await self.db.execute(
                "INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) "
                "DO UPDATE SET position = max(position, excluded.position)",
                (name, position),
            )
