"""Row 2: the same append workload through the ``eventsourcing`` library (PostgreSQL
persistence, psycopg 3 with its C extension) on the same server."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote, urlsplit
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.table import Row
from eventspine.store.postgres import connect_pool


class Member(Aggregate):
    """One member stream, created by one event with the fields of our ``MemberAssigned``."""

    @event("Assigned")
    def __init__(self, member_id: str, upper_member_id: str, tier: str, assigned_on: str) -> None:
        self.member_id = member_id
        self.upper_member_id = upper_member_id
        self.tier = tier
        self.assigned_on = assigned_on


class Roster(Application[UUID]):
    """The library's application: it saves aggregates' pending events in one recorder call."""

    def assign(self) -> None:
        """One new aggregate, one event, one save (one transaction), like one of our appends."""
        self.save(Member(str(uuid.uuid4()), str(uuid.uuid4()), "worker", "2026-03-01"))


def _env(dsn: str, schema: str, pool_size: int) -> dict[str, str]:
    parts = urlsplit(dsn)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/"),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or ""),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": "0",
        "CREATE_TABLE": "y",
    }


def _run(app: Roster, events: int, writers: int) -> float:
    def writer(first: int) -> None:
        for _ in range(first, events, writers):
            app.assign()

    started = time.perf_counter()
    with ThreadPoolExecutor(writers) as pool:
        for done in [pool.submit(writer, w) for w in range(writers)]:
            done.result()
    return events / (time.perf_counter() - started)


async def library_vs_ours(dsn: str, events: int, writers: int, ours: Row) -> Row:
    """``events`` saves by ``writers`` threads on distinct aggregates, after a warm-up; compared
    with our store's rate on the same workload (row 1, measured in this run)."""
    schema = f"bench_es_{uuid.uuid4().hex[:8]}"
    pool = await connect_pool(dsn, max_size=1)
    await pool.execute(f"CREATE SCHEMA {schema}")
    try:
        app = Roster(env=_env(dsn, schema, writers))
        try:
            await asyncio.to_thread(_run, app, max(writers, events // 10), writers)  # warm-up
            theirs = await asyncio.to_thread(_run, app, events, writers)
        finally:
            app.close()
    finally:
        await pool.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()
    return Row(
        "eventsourcing_lib",
        f"2. store append vs eventsourcing {_version()}, {writers} writers, {events:,} events",
        "events/s",
        ours.ours,
        theirs,
        "eventsourcing (PostgreSQL)",
        1.5,
    )


def _version() -> str:
    from importlib.metadata import version

    return version("eventsourcing")
