"""The projection interface, the same under every feed: the Kafka consumer runner, the
PostgreSQL follower, the in-process bus and the auditor's replay.

A projection turns events into read-model rows. It receives each event as a :class:`Delivered`
(the recorded envelope and the typed event, decoded and upcast by the registry once, by the
feed) and a transaction handle (``Tx``) it writes through; the feed records the consumed
offsets in the same transaction, so a crash never applies an event twice or skips one.
Projections dispatch on the event's class and read its attributes: a new version of an event
type reaches them already upcast, on every feed alike. SQL uses ``$1``-style parameters and
the common dialect of PostgreSQL and SQLite (``ON CONFLICT ... DO UPDATE`` works in both).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol, cast
from uuid import UUID

from eventspine.envelope import RecordedEvent
from eventspine.events import DomainEvent, EventRegistry


class Delivered(NamedTuple):
    """An event as a projection receives it: where and when it was recorded, and what it says.

    ``event`` is the typed event in the latest version of its type (upcast by the registry);
    ``record`` is the event as stored, for its envelope (its ``data`` is the stored form: read
    ``event`` instead). The envelope attributes projections use are offered directly.
    """

    record: RecordedEvent
    event: DomainEvent

    @property
    def id(self) -> UUID:
        """The recorded event's id."""
        return self.record.id

    @property
    def position(self) -> int:
        """Its position in its service's store."""
        return self.record.position

    @property
    def time(self) -> datetime:
        """When it was recorded."""
        return self.record.time

    @property
    def stream_id(self) -> str:
        """The stream it belongs to."""
        return self.record.stream_id

    @property
    def stream_version(self) -> int:
        """Its version within the stream (from 1)."""
        return self.record.stream_version

    @property
    def actor(self) -> str:
        """Who caused it."""
        return self.record.actor


def as_text(value: UUID | None) -> str | None:
    """An optional id as a read-model column holds it (text, or ``NULL``)."""
    return None if value is None else str(value)


def deliver(record: RecordedEvent, registry: EventRegistry) -> Delivered:
    """A recorded event with its typed, upcast event (``InvalidEventError`` if it cannot be)."""
    return Delivered(record, registry.decode(record.event_type, record.schema_version, record.data))


class Decoder:
    """Decodes one store's events for the projections a feed delivers them to.

    Several projections following one store read the same positions in turn; the last batch
    decoded is kept, so each record is decoded once however many projections take it.
    """

    def __init__(self, registry: EventRegistry) -> None:
        self.registry = registry
        self._last: dict[int, Delivered] = {}

    def decode(self, records: Iterable[RecordedEvent]) -> list[Delivered]:
        """The records, delivered, in their order."""
        last = self._last
        batch = [last.get(r.position) or deliver(r, self.registry) for r in records]
        self._last = {d.position: d for d in batch}
        return batch


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


class FetchingTx:
    """The part of :class:`Tx` that follows from ``fetch``: for adapters (SQLite) whose driver
    has no single-row queries of its own."""

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        """Rows of a query (each adapter's own)."""
        raise NotImplementedError

    async def fetchrow(self, query: str, *args: Any) -> Any:
        """The first row, or ``None``."""
        rows = await self.fetch(query, *args)
        return rows[0] if rows else None

    async def fetchval(self, query: str, *args: Any) -> Any:
        """The first column of the first row, or ``None``."""
        row = await self.fetchrow(query, *args)
        return None if row is None else row[0]


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

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        """Apply one event. Ignore event types it does not use."""


class BatchProjection(Projection, Protocol):
    """A projection that can also apply a whole batch at once (faster rebuilds)."""

    async def apply_many(self, tx: Tx, events: list[Delivered]) -> None:
        """Apply events in order; the same result as applying them one by one."""


class DeferringProjection(Projection, Protocol):
    """A projection that may put work off while its feed is far behind (a rebuild) and do it
    once, when the feed has caught up: every feed calls :meth:`caught_up` when it finds
    nothing new to apply, and counts the projection as behind while :meth:`pending` says so
    (so a rebuild is not declared done before that work is)."""

    async def caught_up(self, tx: Tx) -> None:
        """Do the work put off, if any, in ``tx`` (a transaction of its own)."""

    async def pending(self, reader: Tx) -> bool:
        """Whether work was put off and is not done yet."""


def deferring(projection: Projection) -> DeferringProjection | None:
    """The projection as a :class:`DeferringProjection`, or ``None`` if it defers nothing."""
    if callable(getattr(projection, "caught_up", None)) and callable(
        getattr(projection, "pending", None)
    ):
        return cast(DeferringProjection, projection)
    return None


async def apply_all(projection: Projection, tx: Tx, events: list[Delivered]) -> None:
    """Apply events in order, in one call when the projection can take a batch."""
    apply_many = getattr(projection, "apply_many", None)
    if apply_many is not None:
        await apply_many(tx, events)
        return
    for delivered in events:
        await projection.apply(tx, delivered)
