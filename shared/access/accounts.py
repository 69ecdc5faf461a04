"""Accounts: who may sign in, with which role, as which member.

Credentials are secrets, not history: they live in a table beside the roster's store (its
PostgreSQL schema, or an SQLite file in the embedded default), never in an event. What an
account does is recorded as the actor of every event it causes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

import aiosqlite

from access.principal import Principal, Role
from eventspine.bus import SqliteTx
from eventspine.config import Settings
from eventspine.projection import Tx
from eventspine.store.postgres import connect_pool

USERNAME = r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{2,63}$"
"""What a username may be: a letter or digit, then 2 to 63 of those or ``_.@-``."""


@dataclass(frozen=True)
class Account:
    """One account (the password hash stays in the store)."""

    account_id: UUID
    username: str
    role: Role
    member_id: UUID | None
    scopes: frozenset[str]
    created_at: datetime
    disabled_at: datetime | None

    @property
    def principal(self) -> Principal:
        """The principal this account signs in as."""
        return Principal(self.account_id, self.role, self.member_id, self.scopes)


class UsernameTakenError(Exception):
    """Another account already has the username."""


def _ddl(p: str) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {p}accounts (account_id TEXT PRIMARY KEY, "
        "username TEXT NOT NULL UNIQUE, password_hash TEXT, role TEXT NOT NULL, "
        "member_id TEXT, scopes TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, "
        "created_by TEXT NOT NULL, disabled_at TEXT)",
        f"CREATE TABLE IF NOT EXISTS {p}login_failures (username TEXT NOT NULL, at TEXT NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {p.replace('.', '_')}login_failures_user "
        f"ON {p}login_failures (username, at)",
    ]


_COLUMNS = "account_id, username, role, member_id, scopes, created_at, disabled_at"


def _account(row: Any) -> Account:
    return Account(
        account_id=UUID(str(row[0])),
        username=str(row[1]),
        role=cast(Role, row[2]),
        member_id=UUID(str(row[3])) if row[3] else None,
        scopes=frozenset(str(row[4]).split()),
        created_at=datetime.fromisoformat(str(row[5])),
        disabled_at=datetime.fromisoformat(str(row[6])) if row[6] else None,
    )


class AccountStore:
    """Accounts and recent login failures in one database (SQL common to PostgreSQL and
    SQLite, through the platform's :class:`~eventspine.projection.Tx`)."""

    def __init__(self, db: Tx, prefix: str = "") -> None:
        self.db = db
        self.p = prefix

    async def setup(self) -> None:
        """Create the tables if missing."""
        for statement in _ddl(self.p):
            await self.db.execute(statement)

    async def create(
        self,
        *,
        username: str,
        password_hash: str | None,
        role: Role,
        member_id: UUID | None,
        scopes: Iterable[str],
        now: datetime,
        created_by: str,
    ) -> Account:
        """Add an account; :class:`UsernameTakenError` if the username is in use."""
        account_id = uuid.uuid4()
        inserted = await self.db.fetchval(
            f"INSERT INTO {self.p}accounts (account_id, username, password_hash, role, member_id,"
            " scopes, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (username) DO NOTHING RETURNING account_id",
            str(account_id),
            username,
            password_hash,
            role,
            str(member_id) if member_id else None,
            " ".join(sorted(scopes)),
            now.isoformat(),
            created_by,
        )
        if inserted is None:
            raise UsernameTakenError(username)
        found = await self.get(account_id)
        assert found is not None
        return found

    async def get(self, account_id: UUID) -> Account | None:
        """One account by id."""
        row = await self.db.fetchrow(
            f"SELECT {_COLUMNS} FROM {self.p}accounts WHERE account_id = $1", str(account_id)
        )
        return None if row is None else _account(row)

    async def credentials(self, username: str) -> tuple[Account, str | None] | None:
        """An account and its password hash, by username."""
        row = await self.db.fetchrow(
            f"SELECT {_COLUMNS}, password_hash FROM {self.p}accounts WHERE username = $1",
            username,
        )
        return None if row is None else (_account(row), row[7])

    async def page(self, limit: int, offset: int) -> tuple[list[Account], int]:
        """A page of accounts by username, and how many there are."""
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM {self.p}accounts ORDER BY username LIMIT $1 OFFSET $2",
            limit,
            offset,
        )
        count = await self.db.fetchval(f"SELECT count(*) FROM {self.p}accounts")
        return [_account(r) for r in rows], int(count)

    async def count_admins(self) -> int:
        """Enabled admin accounts (the first-admin bootstrap needs none)."""
        return int(
            await self.db.fetchval(
                f"SELECT count(*) FROM {self.p}accounts WHERE role = 'admin' "
                "AND disabled_at IS NULL"
            )
        )

    async def set_password(self, account_id: UUID, password_hash: str) -> None:
        """Replace an account's password hash."""
        await self.db.execute(
            f"UPDATE {self.p}accounts SET password_hash = $2 WHERE account_id = $1",
            str(account_id),
            password_hash,
        )

    async def disable(self, account_id: UUID, now: datetime) -> None:
        """Stop an account from signing in (its tokens run out at their expiry)."""
        await self.db.execute(
            f"UPDATE {self.p}accounts SET disabled_at = $2 "
            "WHERE account_id = $1 AND disabled_at IS NULL",
            str(account_id),
            now.isoformat(),
        )

    async def copy_to(self, target: AccountStore) -> int:
        """Copy every account, with its password hash, into ``target`` (moving an embedded
        installation to PostgreSQL); accounts the target has already are left as they are.
        Returns how many were copied."""
        columns = (
            "account_id, username, password_hash, role, member_id, scopes, created_at, "
            "created_by, disabled_at"
        )
        copied = 0
        for row in await self.db.fetch(f"SELECT {columns} FROM {self.p}accounts"):
            added = await target.db.fetchval(
                f"INSERT INTO {target.p}accounts ({columns}) VALUES "
                "($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING account_id",
                *row,
            )
            if added is None:
                held = await target.db.fetchval(
                    f"SELECT account_id FROM {target.p}accounts WHERE username = $1", row[1]
                )
                if str(held) != str(row[0]):
                    raise UsernameTakenError(row[1])
            else:
                copied += 1
        return copied

    async def record_failure(self, username: str, now: datetime) -> None:
        """Note a failed sign-in for throttling."""
        await self.db.execute(
            f"INSERT INTO {self.p}login_failures (username, at) VALUES ($1, $2)",
            username,
            now.isoformat(),
        )

    async def failures_since(self, username: str, since: datetime) -> list[datetime]:
        """Failed sign-ins of a username since ``since``, oldest first."""
        rows = await self.db.fetch(
            f"SELECT at FROM {self.p}login_failures WHERE username = $1 AND at > $2 ORDER BY at",
            username,
            since.isoformat(),
        )
        return [datetime.fromisoformat(str(r[0])) for r in rows]

    async def clear_failures(self, username: str) -> None:
        """Forget a username's failures after a successful sign-in."""
        await self.db.execute(f"DELETE FROM {self.p}login_failures WHERE username = $1", username)


def postgres_address(dsn: str) -> str:
    """``host:port/database`` of a PostgreSQL DSN (URL or ``key=value`` form), without the
    user or the password: what an operator may be shown of where something was written."""
    if "://" in dsn:
        parts = urlsplit(dsn)
        query = parse_qs(parts.query)
        hosts = parts.netloc.rpartition("@")[2] or ",".join(query.get("host", [])) or "localhost"
        database = unquote(parts.path.lstrip("/")) or ",".join(query.get("dbname", []))
    else:
        pairs = dict(item.split("=", 1) for item in dsn.split() if "=" in item)
        hosts = pairs.get("host", "localhost") + (f":{pairs['port']}" if "port" in pairs else "")
        database = pairs.get("dbname", "")
    return f"{hosts}/{database}" if database else hosts


@dataclass(frozen=True)
class AccountsPlace:
    """Where accounts live: the roster's PostgreSQL schema, or ``accounts.sqlite`` in the
    embedded default's folder. ``str()`` says which, without credentials."""

    backend: Literal["postgres", "sqlite"]
    dsn: str = ""
    schema: str = ""
    path: Path | None = None

    @classmethod
    def of(cls, settings: Settings) -> AccountsPlace:
        """The place the settings' backend (``SANLIAN_STORE_BACKEND``) names."""
        if settings.store_backend == "postgres":
            return cls.postgres(settings)
        return cls("sqlite", path=Path(settings.sqlite_dir) / "accounts.sqlite")

    @classmethod
    def postgres(cls, settings: Settings) -> AccountsPlace:
        """The roster's schema on the settings' PostgreSQL, whatever their backend says."""
        return cls("postgres", dsn=settings.pg_dsn, schema=settings.store_schema("roster"))

    def __str__(self) -> str:
        if self.backend == "postgres":
            return f"PostgreSQL {postgres_address(self.dsn)}, schema {self.schema}"
        return f"SQLite {self.path}"

    async def open(self) -> tuple[AccountStore, Callable[[], Awaitable[None]]]:
        """The account store, on its own connection (tables created if missing), and how to
        close it."""
        if self.backend == "postgres":
            pool = await connect_pool(self.dsn, max_size=2)
            # Under the lock every service's migrations take: two instances starting at once
            # would otherwise both create the tables, and one fails (the types' unique index).
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext('sanlian.migrate'))")
                await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                await AccountStore(conn, f"{self.schema}.").setup()
            return AccountStore(pool, f"{self.schema}."), pool.close
        assert self.path is not None
        db = await open_sqlite_db(self.path)
        sqlite_store = AccountStore(SqliteTx(db), "")
        await sqlite_store.setup()
        return sqlite_store, db.close


async def open_accounts(settings: Settings) -> tuple[AccountStore, Callable[[], Awaitable[None]]]:
    """The account store the settings name, on its own connection, and how to close it.

    PostgreSQL: tables in the roster's schema. SQLite: ``accounts.sqlite`` in the embedded
    default's folder. The roster service opens its accounts with this too.
    """
    return await AccountsPlace.of(settings).open()


async def open_sqlite_db(path: Path) -> aiosqlite.Connection:
    """An autocommit SQLite connection for the account tables (WAL, waits on a busy file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = await aiosqlite.connect(str(path), isolation_level=None)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA busy_timeout=10000")
    return db
