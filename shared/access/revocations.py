"""Revoked tokens: which accounts' earlier tokens every service refuses, and since when.

Tokens are verified offline, so a disabled account's token (or one issued before a password
change) would otherwise work until it expires. The roster records both as events
(``AccountDisabled``, ``AccountPasswordChanged``); each service keeps ``<prefix>revoked_tokens``
(account id -> the moment up to which its tokens are refused) in the same replica, fed the
same way, as its other roster tables, and the guard (:mod:`access.guard`) looks it up. Nobody
asks the roster at request time.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from contracts.roster import AccountDisabled, AccountPasswordChanged
from eventspine.config import Settings
from eventspine.projection import Delivered, Tx

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def microseconds(moment: datetime) -> int:
    """A moment as whole microseconds since the epoch (how the table stores and compares it:
    an integer sorts the same on PostgreSQL and SQLite, an ISO string does not always)."""
    return (moment - EPOCH) // MICROSECOND


class Revocations(Protocol):
    """What the guard asks: up to when an account's tokens are refused."""

    async def revoked_until(self, account_id: UUID) -> datetime | None:
        """The latest moment at or before which the account's tokens were revoked, or
        ``None`` if none ever were."""


class RevokedTokens:
    """Keeps ``<prefix>revoked_tokens`` from the roster's events.

    A :class:`~eventspine.projection.Projection` on its own (the roster runs it beside its
    view), and a part the other services' roster replicas delegate to, so the table moves with
    the replica's own offsets and is rebuilt with it.
    """

    name = "access.revoked_tokens"
    services = ("roster",)

    def __init__(self, prefix: str = "") -> None:
        self.p = prefix
        # Keeps the later moment whatever order two revocations arrive in (a replay, say).
        self.upsert = (
            f"INSERT INTO {prefix}revoked_tokens AS r (account_id, revoked_until) "
            "VALUES ($1, $2) ON CONFLICT (account_id) DO UPDATE "
            "SET revoked_until = excluded.revoked_until "
            "WHERE excluded.revoked_until > r.revoked_until"
        )

    async def setup(self, tx: Tx) -> None:
        """Create the table."""
        await tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.p}revoked_tokens (account_id TEXT PRIMARY KEY, "
            "revoked_until BIGINT NOT NULL)"
        )

    async def reset(self, tx: Tx) -> None:
        """Empty the table."""
        await tx.execute(f"DELETE FROM {self.p}revoked_tokens")

    def statements(self, delivered: Delivered) -> list[tuple[str, tuple[Any, ...]]]:
        """The SQL that applies one event (none for events that revoke nothing)."""
        match delivered.event:
            case (
                AccountDisabled(account_id=account, disabled_at=moment)
                | AccountPasswordChanged(account_id=account, changed_at=moment)
            ):
                return [(self.upsert, (str(account), microseconds(moment)))]
            case _:
                return []

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        """Record a revocation; other events are ignored."""
        for sql, args in self.statements(delivered):
            await tx.execute(sql, *args)


class RevokedTokensReader:
    """:class:`Revocations` answered from a service's own ``revoked_tokens`` table."""

    def __init__(self, reader: Tx, prefix: str = "") -> None:
        self.reader = reader
        self.p = prefix

    async def revoked_until(self, account_id: UUID) -> datetime | None:
        """See :meth:`Revocations.revoked_until`."""
        value = await self.reader.fetchval(
            f"SELECT revoked_until FROM {self.p}revoked_tokens WHERE account_id = $1",
            str(account_id),
        )
        return None if value is None else EPOCH + int(value) * MICROSECOND


def _read_sqlite(path: Path, account_id: UUID) -> int | None:
    try:  # read-only: this process must not create the roster's file
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            row = db.execute(
                "SELECT revoked_until FROM revoked_tokens WHERE account_id = ?", (str(account_id),)
            ).fetchone()
    except sqlite3.OperationalError:  # no such file or table yet
        return None
    return None if row is None else int(row[0])


class RosterRevocations:
    """:class:`Revocations` read from the roster's own table (its PostgreSQL schema, or its
    view file in the embedded default) on a short connection per question.

    For a process with no replica of its own that reads the stores directly anyway (the
    frontend's audit endpoints). Before the roster has created the table, nothing was revoked.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sqlite_file = Path(settings.sqlite_dir).absolute() / "roster-view.sqlite"

    async def revoked_until(self, account_id: UUID) -> datetime | None:
        """See :meth:`Revocations.revoked_until`."""
        if self.settings.store_backend == "postgres":
            conn = await asyncpg.connect(self.settings.pg_dsn)
            try:
                prefix = f"{self.settings.store_schema('roster')}."
                return await RevokedTokensReader(conn, prefix).revoked_until(account_id)
            except asyncpg.UndefinedTableError:
                return None
            finally:
                await conn.close()
        value = await asyncio.to_thread(_read_sqlite, self.sqlite_file, account_id)
        return None if value is None else EPOCH + value * MICROSECOND
