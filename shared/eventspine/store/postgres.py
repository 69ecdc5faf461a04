"""The PostgreSQL event store (asyncpg), one schema per service."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from eventspine.envelope import OutboxRecord, RecordedEvent
from eventspine.errors import ConcurrencyError, IdempotencyConflictError
from eventspine.events import EventRegistry
from eventspine.projection import Tx
from eventspine.store.base import (
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
from eventspine.store.migration import ddl_step, run_migration
from eventspine.store.postgres_sql import schema_ddl

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_COLUMNS = (
    "position, stream_id, stream_version, event_id, event_type, schema_version, time, actor, "
    "correlation_id, causation_id, command_id, data::text AS data, prev_hash, hash"
)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Our code sets no session state (no SET, LISTEN or session locks): only a transaction
    left open by a cancelled task needs ending before the connection is reused."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def connect_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """An asyncpg pool as every Sanlian process uses it.

    The default pool resets each connection on release, one more round trip per query;
    nothing here needs it (transaction-scoped locks only), so it is skipped.
    """
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, reset=_keep_session
    )
    return pool


def checked_schema(schema: str) -> str:
    """Schema names are spliced into SQL, so only plain lowercase identifiers pass."""
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid PostgreSQL schema name {schema!r}")
    return schema


# Same columns as OUTBOX_COLUMNS, as text; the time format must equal envelope.format_time.
_OUTBOX_SQL = (
    "SELECT position, stream_id, data::text, event_id::text, event_type, schema_version, "
    """to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), stream_version, """
    "actor, correlation_id::text, causation_id::text, prev_hash, hash "
    "FROM {schema}.events WHERE position > $1 ORDER BY position LIMIT $2"
)


def _settle(outcome: asyncio.Future[list[asyncpg.Record]], result: object) -> None:
    if outcome.done():  # the caller gave up (cancelled); the append's fate is its own
        return
    if isinstance(result, BaseException):
        outcome.set_exception(result)
    else:
        outcome.set_result(result)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Item:
    """One append as ``append_group`` takes it (its share of the flattened arrays)."""

    command_id: UUID | None
    fingerprint: str | None
    actor: str
    correlation_id: UUID
    causation_id: UUID | None
    streams: list[str]
    expected: list[int]
    stream_index: list[int]
    event_ids: list[UUID]
    types: list[str]
    schema_versions: list[int]
    times: list[datetime]
    data: list[str]
    digests: list[str]


def _group_arguments(items: Sequence[_Item]) -> tuple[list[Any], ...]:
    """``append_group``'s arguments for ``items``: per append, per stream and per event."""
    return (
        [len(i.streams) for i in items],
        [len(i.event_ids) for i in items],
        [i.command_id for i in items],
        [i.fingerprint for i in items],
        [i.actor for i in items],
        [i.correlation_id for i in items],
        [i.causation_id for i in items],
        [s for i in items for s in i.streams],
        [v for i in items for v in i.expected],
        [x for i in items for x in i.stream_index],
        [x for i in items for x in i.event_ids],
        [x for i in items for x in i.types],
        [x for i in items for x in i.schema_versions],
        [x for i in items for x in i.times],
        [x for i in items for x in i.data],
        [x for i in items for x in i.digests],
    )


def _outcome(rows: list[asyncpg.Record]) -> list[asyncpg.Record] | Exception:
    """Rows of one append in ``append_group``: its events, or the version clash it met."""
    if rows and rows[0]["out_error"] is not None:
        stream, expected, actual = str(rows[0]["out_detail"]).split("\n")
        return ConcurrencyError(stream, int(expected), int(actual))
    return rows


class PostgresEventStore(EventStore):
    """Event store in ``schema`` of a PostgreSQL database, reached through an asyncpg pool."""

    def __init__(
        self,
        dsn: str,
        service: str,
        registry: EventRegistry,
        *,
        schema: str | None = None,
        clock: Clock = utc_now,
        pool_size: int = 10,
        max_group: int = 64,
    ) -> None:
        super().__init__(service, registry, clock)
        self.dsn = dsn
        self.schema = checked_schema(schema or service)
        self.pool_size = pool_size
        self.max_group = max_group
        self._pool: asyncpg.Pool | None = None
        self._pending: list[tuple[_Item, asyncio.Future[list[asyncpg.Record]]]] = []
        self._committer: asyncio.Task[None] | None = None
        params = ", ".join(f"${n}" for n in range(1, 17))
        self._group_sql = f"SELECT * FROM {self.schema}.append_group({params})"

    @property
    def pool(self) -> asyncpg.Pool:
        """The connection pool (after :meth:`open`)."""
        if self._pool is None:
            raise RuntimeError("the event store is not open")
        return self._pool

    async def open(self) -> None:
        """Create the pool and, under a lock so replicas can start together, the schema."""
        if self._pool is not None:
            return
        self._pool = await connect_pool(self.dsn, max_size=self.pool_size)
        await run_migration(self.pool, ddl_step(schema_ddl(self.schema)))

    async def close(self) -> None:
        """Close the pool."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _append(
        self,
        requests: Sequence[AppendRequest],
        prepared: list[PreparedEvent],
        context: CommandContext,
    ) -> list[RecordedEvent]:
        rows = await self._submit(
            _Item(
                context.command_id,
                context.fingerprint,
                context.actor,
                context.correlation_id,
                context.causation_id,
                [r.stream_id for r in requests],
                [r.expected_version for r in requests],
                [p.stream_index + 1 for p in prepared],
                [p.event_id for p in prepared],
                [p.event_type for p in prepared],
                [p.schema_version for p in prepared],
                [p.time for p in prepared],
                [json.dumps(p.data, ensure_ascii=False) for p in prepared],
                [p.digest for p in prepared],
            )
        )
        if rows and rows[0]["out_replayed"]:
            check_fingerprint(context, rows[0]["out_detail"])
            return await self._replayed(requests, [row["out_position"] for row in rows], context)
        return [
            # Plain construction: validating typed values costs less than model_construct().
            RecordedEvent(
                id=p.event_id,
                service=self.service,
                event_type=p.event_type,
                schema_version=p.schema_version,
                time=p.time,
                stream_id=p.stream_id,
                stream_version=row["out_stream_version"],
                position=row["out_position"],
                actor=context.actor,
                correlation_id=context.correlation_id,
                causation_id=context.causation_id,
                command_id=context.command_id,
                data=p.data,
                prev_hash=row["out_prev_hash"],
                hash=row["out_hash"],
            )
            for p, row in zip(prepared, rows, strict=True)
        ]

    async def _replayed(
        self, requests: Sequence[AppendRequest], positions: list[int], context: CommandContext
    ) -> list[RecordedEvent]:
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM {self.schema}.events "
            "WHERE position = ANY($1) ORDER BY position",
            positions,
        )
        events = [self._event(row) for row in rows]
        recorded = {e.stream_id for e in events}
        for request in requests:
            if request.stream_id not in recorded:
                raise IdempotencyConflictError(
                    str(context.command_id), request.stream_id, ", ".join(sorted(recorded))
                )
        return events

    async def _submit(self, item: _Item) -> list[asyncpg.Record]:
        """Queue one append for the group committer and wait for its own outcome."""
        outcome: asyncio.Future[list[asyncpg.Record]] = asyncio.get_running_loop().create_future()
        self._pending.append((item, outcome))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_groups())
        return await outcome

    async def _commit_groups(self) -> None:
        """Group commit: appends that queued up while the previous group committed go to the
        server in one call (one round trip, one transaction, one WAL flush) instead of N
        (appends are serialised by the store's lock anyway). Each keeps its own outcome."""
        while self._pending:
            group = self._pending[: self.max_group]
            del self._pending[: len(group)]
            try:
                outcomes = await self._call_group([item for item, _ in group])
            except asyncpg.PostgresError as exc:
                # The server refused the call, so none of it is stored: each append again on
                # its own, so that one bad append does not fail the others.
                if len(group) == 1:
                    outcomes = [exc]
                else:
                    outcomes = [await self._alone(item) for item, _ in group]
            except Exception as exc:  # the connection failed: whether it committed is unknown
                outcomes = [exc] * len(group)
            for (_, outcome), result in zip(group, outcomes, strict=True):
                _settle(outcome, result)

    async def _call_group(self, items: Sequence[_Item]) -> list[list[asyncpg.Record] | Exception]:
        rows = await self.pool.fetch(self._group_sql, *_group_arguments(items))
        by_item: list[list[asyncpg.Record]] = [[] for _ in items]
        for row in rows:
            by_item[row["out_item"]].append(row)
        return [_outcome(item_rows) for item_rows in by_item]

    async def _alone(self, item: _Item) -> list[asyncpg.Record] | Exception:
        try:
            return (await self._call_group([item]))[0]
        except Exception as exc:
            return exc

    def _event(self, row: asyncpg.Record) -> RecordedEvent:
        return RecordedEvent(
            id=row["event_id"],
            service=self.service,
            event_type=row["event_type"],
            schema_version=row["schema_version"],
            time=row["time"],
            stream_id=row["stream_id"],
            stream_version=row["stream_version"],
            position=row["position"],
            actor=row["actor"],
            correlation_id=row["correlation_id"],
            causation_id=row["causation_id"],
            command_id=row["command_id"],
            data=json.loads(row["data"]),
            prev_hash=row["prev_hash"],
            hash=row["hash"],
        )

    async def applied(self, command_id: UUID) -> list[RecordedEvent]:
        """The events a command id already appended."""
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM {self.schema}.events WHERE command_id = $1 ORDER BY position",
            command_id,
        )
        return [self._event(row) for row in rows]

    async def fingerprint(self, command_id: UUID) -> str | None:
        """The fingerprint recorded with a command id's first append."""
        value: Any = await self.pool.fetchval(
            f"SELECT fingerprint FROM {self.schema}.commands WHERE command_id = $1", command_id
        )
        return None if value is None else str(value)

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        """A stream's events in version order."""
        validate_stream_id(stream_id)
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM {self.schema}.events "
            "WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version",
            stream_id,
            from_version,
        )
        return [self._event(row) for row in rows]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Events after a global position, in position order."""
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM {self.schema}.events "
            "WHERE position > $1 ORDER BY position LIMIT $2",
            after_position,
            limit,
        )
        return [self._event(row) for row in rows]

    async def take_following(
        self, conn: Tx, positions: str, name: str, limit: int
    ) -> list[RecordedEvent]:
        """Up to ``limit`` events after the position that a follower's ``positions`` table
        holds for ``name``, in position order, and that position moved to the last of them,
        by one statement on ``conn``: the caller applies them in the same transaction, whose
        rollback puts the position back. The row stays locked until then (``FOR UPDATE``), so
        a follower's step takes its turn, its batch and its new position in one round trip."""
        rows = await conn.fetch(
            f"WITH held AS (SELECT last_position FROM {positions} WHERE projection = $1 "
            f"FOR UPDATE), batch AS (SELECT {_COLUMNS} FROM {self.schema}.events "
            "WHERE position > (SELECT last_position FROM held) ORDER BY position LIMIT $2), "
            f"moved AS (UPDATE {positions} SET last_position = top.position "
            "FROM (SELECT max(position) AS position FROM batch) AS top "
            "WHERE projection = $1 AND top.position IS NOT NULL) "
            "SELECT * FROM batch ORDER BY position",
            name,
            limit,
        )
        return [self._event(row) for row in rows]

    async def read_outbox(self, after_position: int = 0, limit: int = 1000) -> list[OutboxRecord]:
        """Events after a global position as Kafka records, in position order."""
        rows = await self.pool.fetch(_OUTBOX_SQL.format(schema=self.schema), after_position, limit)
        return [outbox_record(self.service, row) for row in rows]

    async def head_position(self) -> int:
        """Highest stored position."""
        value: Any = await self.pool.fetchval(
            f"SELECT coalesce(max(position), 0) FROM {self.schema}.events"
        )
        return int(value)

    async def load_checkpoint(self, name: str) -> int:
        """A reader's saved position."""
        value: Any = await self.pool.fetchval(
            f"SELECT position FROM {self.schema}.checkpoints WHERE name = $1", name
        )
        return int(value or 0)

    async def save_checkpoint(self, name: str, position: int) -> None:
        """Save a reader's position, never moving it backwards."""
        await self.pool.execute(
            f"INSERT INTO {self.schema}.checkpoints (name, position) VALUES ($1, $2) "
            "ON CONFLICT (name) DO UPDATE SET position = greatest(checkpoints.position, "
            "excluded.position), updated_at = now()",
            name,
            position,
        )
