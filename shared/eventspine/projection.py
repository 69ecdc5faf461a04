"""The projection interface, the same under the Kafka consumer runner and the in-process bus.

A projection turns events into read-model rows. It receives a transaction handle (``Tx``) and
writes through it; the runner records the consumed offsets in the same transaction, so a
crash never applies an event twice or skips one. SQL uses ``$1``-style parameters and the
common dialect of PostgreSQL and SQLite (``ON CONFLICT ... DO UPDATE`` works in both).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from eventspine.envelope import RecordedEvent


class Tx(Protocol):
    """The part of an asyncpg connection a projection may use (the SQLite adapter has it too)."""

    async def execute(self, query: str, *args: Any) -> Any:
        """Run a statement."""

    async def executemany(self, command: str, args: Any) -> Any:
        """Run a statement once per argument tuple (pipelined on PostgreSQL)."""

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        """Rows of a query."""

    async def fetchrow(self, query: str, *args: Any) -> Any:
        """The first row of a query, or ``None``."""

    async def fetchval(self, query: str, *args: Any) -> Any:
        """The first column of the first row, or ``None``."""


class Projection(Protocol):
    """A read model built from the events of one or more services."""

    @property
    def name(self) -> str:
        """Stable name: the consumer group and the key of the stored offsets."""

    @property
    def services(self) -> Sequence[str]:
        """The services whose events it reads (their topics, or their stores in embedded mode)."""

    async def setup(self, tx: Tx) -> None:
        """Create the projection's tables if missing."""

    async def reset(self, tx: Tx) -> None:
        """Empty the projection's tables, before a rebuild from the first event."""

    async def apply(self, tx: Tx, event: RecordedEvent) -> None:
        """Apply one event. Ignore event types it does not use."""


class BatchProjection(Projection, Protocol):
    """A projection that can also apply a whole batch at once (faster rebuilds)."""

    async def apply_many(self, tx: Tx, events: list[RecordedEvent]) -> None:
        """Apply events in order; the same result as applying them one by one."""
