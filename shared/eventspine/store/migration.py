"""Schema set-up that a running installation's writers never notice.

Every process creates its tables when it starts (idempotently, ``IF NOT EXISTS``), often while
other processes of the installation write to those tables: a service restarted after a crash,
a second instance behind the balancer. Idempotent DDL still takes table locks: ``CREATE INDEX
IF NOT EXISTS`` locks the table in SHARE mode before it finds the index exists, and a trigger
statement takes stronger locks still. A writer that had read the table (ACCESS SHARE) and then
inserts (ROW EXCLUSIVE) behind such a lock closes a cycle, and PostgreSQL breaks it by failing
one of the two transactions: sometimes the writer's, which had been asked to store a command.

:func:`run_migration` makes the set-up the side that gives way: it holds the installation's
migration lock (starters queue on it), waits at most ``lock_timeout`` for any table lock (well
under PostgreSQL's ``deadlock_timeout`` of one second, so the set-up times out before a
deadlock is declared), and on a lock timeout rolls back, so the writers go on, and runs again.
Its index statements (``CREATE INDEX IF NOT EXISTS name ON table``, the form the read models'
set-ups share with SQLite) are looked up in the catalog first and skipped when the index is
there, so a set-up of existing tables takes no table lock at all.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from eventspine.projection import Tx

MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(hashtext('sanlian.migrate'))"

Step = Callable[[Tx], Awaitable[None]]

_INDEX = re.compile(
    r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+IF\s+NOT\s+EXISTS\s+(\w+)\s+ON\s+(?:(\w+)\.)?\w+",
    re.IGNORECASE,
)


class _CatalogFirst:
    """The set-up's connection, skipping index statements whose index exists already."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    async def execute(self, query: str, *args: Any) -> Any:
        found = _INDEX.match(query) if not args else None
        if found is not None:
            name = f"{found[2]}.{found[1]}" if found[2] else found[1]
            if await self._conn.fetchval("SELECT to_regclass($1) IS NOT NULL", name):
                return "EXISTS"
        return await self._conn.execute(query, *args)


async def run_migration(
    pool: asyncpg.Pool,
    step: Step,
    *,
    lock_timeout_ms: int = 400,
    attempts: int = 50,
) -> None:
    """Run ``step`` in one transaction under the migration lock, giving way to the writers.

    ``step`` must be idempotent (it may run again after a lock timeout rolled it back). After
    ``attempts`` lock timeouts in a row the last error is raised.
    """
    for attempt in range(1, attempts + 1):
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(MIGRATION_LOCK)
                # After the migration lock: starters may wait on each other as long as needed.
                await conn.execute(f"SET LOCAL lock_timeout = '{int(lock_timeout_ms)}ms'")
                await step(_CatalogFirst(conn))
            return
        except (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError):
            if attempt == attempts:
                raise
            await asyncio.sleep(random.uniform(0.05, 0.05 * min(attempt, 10)))


def ddl_step(sql: str) -> Step:
    """A step that executes ``sql`` (one or more statements)."""

    async def step(conn: Tx) -> None:
        await conn.execute(sql)

    return step
