"""The reports service's composition root: projections, their feed, views, clock, rebuilds."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from access.revocations import RevokedTokensReader
from access.tree import LinkTree
from compliance import ContactRule
from escalation import DeadlineSettings
from eventspine.bus import InProcessBus, SqliteTx
from eventspine.clock import FederationClock
from eventspine.config import Settings
from eventspine.projection import Projection, Tx
from eventspine.replica import Feed, Feeds, LocalFeed, kafka_feed
from eventspine.schemas import installed_registry
from eventspine.store.base import utc_now
from eventspine.store.migration import ddl_step, run_migration
from eventspine.store.postgres import checked_schema, connect_pool
from eventspine.store.sqlite import SqliteEventStore
from reports.aggregate_views import AggregateView
from reports.projections import SuggestionProjection
from reports.projections.aggregates import AggregatedCompliance
from reports.queue import SuggestionViews
from reports.rebuild import Backend, Claim, Generation, Rebuilder, RebuildStatus, Target, abandoned
from reports.views import ComplianceView
from topology.table import event_stores

SERVICE = "reports"


class Reports:
    """The wired reports service: answers from the live generation of its projections.

    ``views``, ``suggestions``, ``feed`` and ``last_event_time`` all come from ``live``, which
    a rebuild replaces in one assignment; a request that already holds a view keeps reading
    the generation it started on (kept readable until the rebuild retires it).
    """

    def __init__(
        self,
        backend: Backend,
        live: Generation,
        clock: FederationClock,
        *,
        rebuild_timeout_seconds: float = 3600.0,
    ) -> None:
        self.backend = backend
        self.live = live
        self.clock = clock
        """The federation's clock (``SANLIAN_TIMEZONE``): its today is the day the contacts
        service calls today, so a contact dated today counts in this period's figures at once."""
        self.rebuilds = Rebuilder(backend, self, timeout_seconds=rebuild_timeout_seconds)

    @property
    def views(self) -> ComplianceView:
        """The compliance view of the live generation."""
        return self.live.views

    @property
    def suggestions(self) -> SuggestionViews:
        """The queue, performance and overview of the live generation."""
        return self.live.suggestions

    @property
    def tree(self) -> LinkTree:
        """Who is below whom now, from the live generation's links (for members' scope)."""
        views = self.live.views
        return LinkTree(
            views.reader,
            f"SELECT upper_member_id, lower_member_id FROM {views.p}r_links "
            "WHERE unassigned_on IS NULL",
        )

    @property
    def revocations(self) -> RevokedTokensReader:
        """The revoked tokens the live generation's compliance projection keeps."""
        views = self.live.views
        return RevokedTokensReader(views.reader, views.p)

    @property
    def feed(self) -> Feed:
        """What feeds the live generation (its lag is ``/ready``'s)."""
        return self.live.feed

    async def last_event_time(self) -> datetime | None:
        """The time of the newest event the live generation applied (PostgreSQL only)."""
        return await self.live.last_event_time()

    async def ping(self) -> None:
        """Raise when the database cannot be reached (for ``/ready``)."""
        await self.backend.ping()

    async def lag_seconds(self) -> float:
        """While behind: the age of the newest applied event (0 when up to date)."""
        if not await self.feed.behind():
            return 0.0
        last = await self.last_event_time()
        return max(0.0, (datetime.now(UTC) - last).total_seconds()) if last else 0.0

    async def catch_up(self) -> int:
        """Projections are fed in the background; nothing to do at start."""
        return 0

    async def close(self) -> None:
        """Abandon a running rebuild, stop the live feed, release the backend."""
        await self.rebuilds.close()
        await self.live.feed.stop()
        await self.backend.close()


def contact_rule(settings: Settings) -> ContactRule:
    """The contact rule, from the same settings the contacts service reads."""
    return ContactRule.model_validate(
        {"minimum": settings.contact_minimum, "period_months": settings.contact_period_months}
    )


async def build(settings: Settings, clock: Callable[[], datetime] = utc_now) -> Reports:
    """Start the projections on the settings' backend and answer from them."""
    backend: Backend
    if settings.store_backend == "postgres":
        backend = await PostgresBackend.connect(settings)
    else:
        backend = await SqliteBackend.connect(settings)
    try:
        live = await backend.open(await backend.current())
    except BaseException:
        await backend.close()
        raise
    reports = Reports(backend, live, FederationClock(clock, ZoneInfo(settings.timezone)))
    reports.rebuilds.follow_in_background()  # another instance's swap, within a second or so
    return reports


def _views(
    reader: Tx, settings: Settings, prefix: str = ""
) -> tuple[ComplianceView, SuggestionViews]:
    rule = contact_rule(settings)
    compliance = ComplianceView(reader, rule, prefix, AggregateView(reader, rule, prefix))
    # The shared escalation deadlines (SANLIAN_FEEDBACK_DEADLINES): the queue shows exactly
    # the deadlines that escalate in the feedback service.
    deadlines = DeadlineSettings().deadline_policy()
    return compliance, SuggestionViews(reader, deadlines, compliance, prefix)


def rebuild_key(schema: str) -> int:
    """The advisory lock key of the rebuild claim on the reports in ``schema`` (a signed
    bigint, like the relays' lease keys)."""
    digest = hashlib.sha256(f"sanlian.reports.rebuild:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class SessionClaim:
    """A rebuild's claim: a session-level advisory lock on a connection of its own (not the
    pool's: a session lock belongs to its connection). PostgreSQL releases it when the session
    ends, so an instance killed in a rebuild leaves the claim free."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        """The claim's session: what only the claim's holder may do runs on it, so it fails
        once the session (and with it the lock) is gone."""

    async def release(self) -> None:
        """End the claim's session, which releases the lock."""
        try:
            await asyncio.wait_for(self.conn.close(), 5.0)
        except Exception:  # the session is unusable anyway: drop the socket
            self.conn.terminate()


def _session(claim: Claim) -> asyncpg.Connection:
    if not isinstance(claim, SessionClaim):
        raise TypeError(f"not a PostgreSQL rebuild claim: {claim!r}")
    return claim.conn


class PostgresBackend:
    """Generations are schemas: the first is ``<base>`` (the service's store schema), a
    rebuild's ``<base>_r<id>``, with runners in consumer groups ``<topic prefix>.r<id>``.
    The pointer is the one row of ``<base>.current_generation``, the last rebuild's status the
    one row of ``<base>.rebuild_status``; the claim is an advisory lock (:class:`SessionClaim`).
    Every instance reads the pointer each ``follow_every_seconds``."""

    retire_after_seconds = 0.0  # the pool stays: requests on the old schema still answer
    follow_every_seconds: float | None = 1.0

    def __init__(self, settings: Settings, pool: asyncpg.Pool) -> None:
        self.settings = settings
        self.pool = pool
        self.base = checked_schema(settings.store_schema(SERVICE))
        self.rebuild_key = rebuild_key(self.base)

    @classmethod
    async def connect(cls, settings: Settings) -> PostgresBackend:
        """Open the pool and create the pointer table."""
        pool = await connect_pool(settings.pg_dsn, max_size=settings.pg_pool_size)
        backend = cls(settings, pool)
        try:
            await run_migration(
                pool,
                ddl_step(
                    f"CREATE SCHEMA IF NOT EXISTS {backend.base}; "
                    f"CREATE TABLE IF NOT EXISTS {backend.base}.current_generation ("
                    "id integer PRIMARY KEY CHECK (id = 1), schema text NOT NULL, "
                    "group_prefix text NOT NULL, swapped_at timestamptz NOT NULL DEFAULT now()); "
                    f"CREATE TABLE IF NOT EXISTS {backend.base}.rebuild_status ("
                    "id integer PRIMARY KEY CHECK (id = 1), status jsonb NOT NULL, "
                    "updated_at timestamptz NOT NULL DEFAULT now())"
                ),
            )
        except BaseException:
            await pool.close()
            raise
        return backend

    async def current(self) -> Target:
        row = await self.pool.fetchrow(
            f"SELECT schema, group_prefix FROM {self.base}.current_generation WHERE id = 1"
        )
        if row is None:
            return Target(self.base, self.settings.topic_prefix)
        return Target(checked_schema(row["schema"]), row["group_prefix"])

    def fresh(self, rebuild_id: str) -> Target:
        return Target(
            checked_schema(f"{self.base}_r{rebuild_id}"),
            f"{self.settings.topic_prefix}.r{rebuild_id}",
        )

    async def point(self, target: Target, claim: Claim) -> None:
        await _session(claim).execute(
            f"INSERT INTO {self.base}.current_generation (id, schema, group_prefix) "
            "VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET schema = excluded.schema, "
            "group_prefix = excluded.group_prefix, swapped_at = now()",
            target.location,
            target.group_prefix,
        )

    async def open(self, target: Target) -> Generation:
        settings, schema = self.settings, checked_schema(target.location)
        prefix = f"{schema}."
        feeds = [
            await kafka_feed(settings, projection, self.pool, schema, target.group_prefix)
            for projection in (
                AggregatedCompliance(contact_rule(settings), prefix),
                SuggestionProjection(prefix),
            )
        ]
        runners = [feed.runner for feed in feeds]
        feed = Feeds(list(feeds))
        await feed.start()

        async def last_event_time() -> datetime | None:
            times = [t for r in runners if (t := await r.last_event_time()) is not None]
            return min(times, default=None)

        async def positions() -> dict[tuple[Any, ...], int]:
            return {
                (runner.projection.name, tp.topic, tp.partition): offset
                for runner in runners
                for tp, (offset, _) in (await runner.stored_offsets()).items()
            }

        return Generation(
            target, *_views(self.pool, settings, prefix), feed, last_event_time, positions
        )

    async def ping(self) -> None:
        """One round trip to the database."""
        await self.pool.fetchval("SELECT 1")

    async def drop_except(self, keep: Collection[Target], claim: Claim) -> list[str]:
        """Drop the rebuilds' schemas not in ``keep``; the first generation, which shares
        ``<base>`` with the pointer, by dropping its tables (the pointer's and the status's
        tables stay)."""
        session = _session(claim)
        kept = {target.location for target in keep}
        rebuilt = re.compile(re.escape(self.base) + r"_r[0-9a-f]+")
        rows = await session.fetch(
            "SELECT nspname FROM pg_namespace WHERE left(nspname, length($1)) = $1 "
            "ORDER BY nspname",
            f"{self.base}_r",
        )
        dropped = []
        for name in (row["nspname"] for row in rows):
            if rebuilt.fullmatch(name) and name not in kept:
                await session.execute(f"DROP SCHEMA {checked_schema(name)} CASCADE")
                dropped.append(name)
        if self.base not in kept:
            tables = await session.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = $1 "
                "AND tablename NOT IN ('current_generation', 'rebuild_status')",
                self.base,
            )
            if tables:
                names = ", ".join(f'{self.base}."{row["tablename"]}"' for row in tables)
                await session.execute(f"DROP TABLE {names} CASCADE")
                dropped.append(self.base)
        return dropped

    async def claim(self) -> Claim | None:
        conn = await asyncpg.connect(
            self.settings.pg_dsn,
            timeout=10.0,
            server_settings={"application_name": f"sanlian-reports-rebuild:{self.base}"},
        )
        claim = SessionClaim(conn)
        try:
            got = await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.rebuild_key)
        except BaseException:
            await claim.release()
            raise
        if not got:
            await claim.release()
            return None
        return claim

    async def record(self, status: RebuildStatus) -> None:
        await self.pool.execute(
            f"INSERT INTO {self.base}.rebuild_status AS t (id, status) VALUES (1, $1::jsonb) "
            "ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = now() "
            "WHERE $2 OR t.status->>'id' = excluded.status->>'id'",
            status.model_dump_json(exclude={"events_behind"}),
            status.state == "running",
        )

    async def recorded(self) -> RebuildStatus | None:
        """The recorded status, with whether any session holds the claim (``pg_locks`` shows a
        bigint key as its high half in ``classid``, its low half in ``objid``)."""
        unsigned = self.rebuild_key & 0xFFFF_FFFF_FFFF_FFFF
        row = await self.pool.fetchrow(
            f"SELECT r.status::text AS status, c.schema AS pointer, EXISTS ("
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid::bigint = $1 AND objid::bigint = $2) AS held "
            f"FROM {self.base}.rebuild_status r "
            f"LEFT JOIN {self.base}.current_generation c ON c.id = 1 WHERE r.id = 1",
            unsigned >> 32,
            unsigned & 0xFFFF_FFFF,
        )
        if row is None:
            return None
        status = RebuildStatus.model_validate_json(row["status"])
        if status.state == "running" and not row["held"]:
            return abandoned(status, row["pointer"] or self.base)
        return status

    async def close(self) -> None:
        await self.pool.close()


POINTER = "reports.current"
FIRST = "reports.sqlite"


def _read_pointer(path: Path) -> str:
    return path.read_text("utf-8").strip() if path.exists() else FIRST


def _write_pointer(path: Path, name: str) -> None:
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as file:
        file.write(name + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


_GENERATION_FILE = re.compile(r"reports(-r[0-9a-f]+)?\.sqlite")


def _delete_generations(folder: Path, kept: set[str]) -> list[str]:
    dropped = []
    for path in sorted(folder.iterdir()):
        if _GENERATION_FILE.fullmatch(path.name) and path.name not in kept:
            for suffix in ("-wal", "-shm", "-journal"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            path.unlink()
            dropped.append(path.name)
    return dropped


class SqliteBackend:
    """Generations are files in ``sqlite_dir``: ``reports.sqlite``, then a rebuild's
    ``reports-r<id>.sqlite``, each fed by its own bus from the services' store files. The
    pointer is the file ``reports.current`` (the name of the live file)."""

    retire_after_seconds = 1.0  # the old file's connection closes with its bus: let reads end
    follow_every_seconds: float | None = None  # one process: its own rebuilds are the only swaps

    def __init__(self, settings: Settings, folder: Path, stores: list[SqliteEventStore]) -> None:
        self.settings = settings
        self.folder = folder
        self.stores = stores
        self._recorded: RebuildStatus | None = None

    @classmethod
    async def connect(cls, settings: Settings) -> SqliteBackend:
        """Open the services' store files (every generation reads them)."""
        registry = installed_registry()
        folder = Path(settings.sqlite_dir)
        folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at start-up
        stores = [
            SqliteEventStore(str(folder / f"{service}-events.sqlite"), service, registry)
            for service in event_stores()
        ]
        for store in stores:
            await store.open()
        return cls(settings, folder, stores)

    async def current(self) -> Target:
        return Target(await asyncio.to_thread(_read_pointer, self.folder / POINTER))

    def fresh(self, rebuild_id: str) -> Target:
        return Target(f"reports-r{rebuild_id}.sqlite")

    async def point(self, target: Target, claim: Claim) -> None:
        await asyncio.to_thread(_write_pointer, self.folder / POINTER, target.location)

    async def open(self, target: Target) -> Generation:
        projections: list[Projection] = [
            AggregatedCompliance(contact_rule(self.settings)),
            SuggestionProjection(),
        ]
        bus = InProcessBus(self.stores, projections, str(self.folder / target.location))
        feed = LocalFeed(bus)
        await feed.start()

        async def last_event_time() -> datetime | None:
            return None

        async def positions() -> dict[tuple[Any, ...], int]:
            rows = await SqliteTx(bus.db).fetch(
                "SELECT projection, service, last_position FROM projection_positions"
            )
            return {(row[0], row[1]): int(row[2]) for row in rows}

        reader = SqliteTx(bus.db)
        return Generation(target, *_views(reader, self.settings), feed, last_event_time, positions)

    async def ping(self) -> None:
        """Read the store files the projections follow."""
        for store in self.stores:
            await store.head_position()

    async def drop_except(self, keep: Collection[Target], claim: Claim) -> list[str]:
        """Delete the generations' files (with their WAL and shared-memory files) not in
        ``keep``."""
        kept = {target.location for target in keep}
        return await asyncio.to_thread(_delete_generations, self.folder, kept)

    async def claim(self) -> Claim | None:
        """Always granted: one process, whose rebuilder runs one rebuild at a time already."""
        return _InProcessClaim()

    async def record(self, status: RebuildStatus) -> None:
        """Kept in memory: the one process is the only reader (since the service started)."""
        self._recorded = status

    async def recorded(self) -> RebuildStatus | None:
        return self._recorded

    async def close(self) -> None:
        for store in self.stores:
            await store.close()


class _InProcessClaim:
    """The claim of the embedded default: nothing beyond the rebuilder's own lock."""

    async def release(self) -> None:
        """Nothing to give up."""
