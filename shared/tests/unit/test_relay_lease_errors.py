"""The relay's lease loop outlives what a database restart makes the driver raise: it waits
and tries again, rather than ending the relay process.

The connection here is a stand-in (a unit test of the loop's error handling; the real
database's takeovers are covered by the integration tests)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from eventspine.relay import RelayLease


class _Session:
    def __init__(self) -> None:
        self.closed = False

    async def fetchval(self, query: str, *args: Any, **options: Any) -> bool:
        return True

    def is_closed(self) -> bool:
        return self.closed

    async def close(self) -> None:
        self.closed = True


class _Restarting(RelayLease):
    """A lease whose first tries meet ``errors``, one each, and then a session."""

    def __init__(self, errors: list[Exception]) -> None:
        super().__init__("postgresql://unused", "roster", poll_seconds=0.01)
        self.errors = errors
        self.tries = 0

    async def _connect(self) -> Any:
        self.tries += 1
        if self.errors:
            raise self.errors.pop(0)
        self._conn = _Session()  # type: ignore[assignment]
        return self._conn


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.InternalClientError("cannot switch to state 12; another operation is in progress"),
        asyncpg.exceptions.AdminShutdownError(
            "terminating connection due to administrator command"
        ),
        asyncpg.exceptions.CrashShutdownError("the database system is in recovery mode"),
        ConnectionRefusedError("connection refused"),
    ],
    ids=lambda error: type(error).__name__,
)
async def test_the_lease_is_taken_after_the_database_comes_back(error: Exception) -> None:
    lease = _Restarting([error, error])
    got = await asyncio.wait_for(lease.acquire(asyncio.Event()), 30)
    assert got is True
    assert lease.tries == 3
    assert lease.held
