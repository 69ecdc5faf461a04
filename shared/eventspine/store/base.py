"""The event store contract and the validation both backends share.

An append names a stream and the version the caller last saw (``expected_version``); if the
stream has moved on, :class:`~eventspine.errors.ConcurrencyError` is raised and nothing is
stored. Appends carrying a ``command_id`` are idempotent: a retry of the same command returns
the events the first attempt stored and appends nothing. The first append of a command id also
records its ``fingerprint`` (what was asked for), in the same transaction; an append or replay
under that id with another fingerprint is refused
(:class:`~eventspine.errors.IdempotencyKeyReusedError`).

Appends are serialised per store, so global positions are gap-free and commit in order: a
reader that has seen position *n* has seen every position below it. That is what lets the
relay publish "everything after my checkpoint" without ever skipping a slower transaction.
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from eventspine.clock import utc_now as utc_now  # re-exported: the default clock
from eventspine.envelope import (
    SPECVERSION,
    STREAM_ID_MAX,
    STREAM_ID_PATTERN,
    OutboxRecord,
    RecordedEvent,
    ce_type,
    format_time,
    hashed_content,
    kafka_headers,
    type_attributes,
)
from eventspine.errors import IdempotencyKeyReusedError, InvalidEventError
from eventspine.events import DomainEvent, EventRegistry
from eventspine.hashing import content_digest

NO_STREAM = 0
"""``expected_version`` for a stream that must not exist yet."""

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class CommandContext:
    """Who asked for an append and why: recorded on every event it produces.

    ``command_id`` makes the append idempotent; ``correlation_id`` ties together everything
    one user action caused; ``causation_id`` is the message (command or event) that caused it.
    ``fingerprint`` (the command pipeline sets it) digests the request behind ``command_id``:
    recorded with the command's first append, it tells a retry from another request that
    reuses the id. None records and checks nothing.
    """

    actor: str
    correlation_id: UUID = field(default_factory=uuid.uuid4)
    causation_id: UUID | None = None
    command_id: UUID | None = None
    fingerprint: str | None = None

    def __post_init__(self) -> None:
        if not self.actor or len(self.actor) > 200:
            raise InvalidEventError("actor", "must be 1 to 200 characters")


@dataclass(frozen=True)
class AppendRequest:
    """Events for one stream, appended if the stream is still at ``expected_version``."""

    stream_id: str
    expected_version: int
    events: Sequence[DomainEvent]


@dataclass(frozen=True)
class PreparedEvent:
    """An event validated and stamped, ready for a backend to chain and insert."""

    stream_index: int
    stream_id: str
    stream_version: int
    event_id: UUID
    event_type: str
    schema_version: int
    time: datetime
    data: dict[str, Any]
    digest: str


def check_fingerprint(context: CommandContext, recorded: str | None) -> None:
    """Refuse ``context`` when its command id was recorded for a request with another
    fingerprint. Either side without one (a command recorded before fingerprints were, an
    append that names none) is not compared: it is answered as a retry, as it always was."""
    if (
        context.command_id is not None
        and context.fingerprint is not None
        and recorded is not None
        and recorded != context.fingerprint
    ):
        raise IdempotencyKeyReusedError(str(context.command_id))


def validate_stream_id(stream_id: object) -> str:
    """Refuse empty, oversized or oddly spelled stream ids (they become Kafka keys and URLs)."""
    if not isinstance(stream_id, str) or not stream_id:
        raise InvalidEventError("stream_id", "must be a non-empty string")
    if len(stream_id) > STREAM_ID_MAX:
        raise InvalidEventError("stream_id", f"must be at most {STREAM_ID_MAX} characters")
    if not STREAM_ID_PATTERN.match(stream_id):
        raise InvalidEventError(
            "stream_id",
            "may contain only letters, digits and . _ : - (starting with a letter or digit)",
        )
    return stream_id


OUTBOX_COLUMNS = (
    "position, stream_id, data, event_id, event_type, schema_version, time, stream_version, "
    "actor, correlation_id, causation_id, prev_hash, hash"
)
"""The columns :func:`outbox_record` expects, as text (backends cast or format them)."""


def outbox_record(service: str, row: Any) -> OutboxRecord:
    """Build the Kafka record of a stored event from a row (a sequence) of :data:`OUTBOX_COLUMNS`.

    The relay's hot path: no model validation, no JSON round trip. The result equals what
    ``RecordedEvent.kafka_headers()`` and ``kafka_value()`` give (the relay tests check it).
    """
    position, stream_id, data, event_id, name, version, time, stream_version = row[:8]
    actor, correlation_id, causation_id, prev_hash, hash_ = row[8:]
    ce, schema = type_attributes(service, name, version)
    values = (
        SPECVERSION,
        event_id,
        f"/sanlian/{service}",
        ce,
        time,
        stream_id,
        schema,
        str(stream_version),
        str(position),
        actor,
        correlation_id,
        causation_id,
        prev_hash,
        hash_,
    )
    return OutboxRecord(position, stream_id.encode(), data.encode(), kafka_headers(values))


class EventStore(abc.ABC):
    """One service's append-only event log (and outbox). Backends implement the ``_`` methods."""

    def __init__(self, service: str, registry: EventRegistry, clock: Clock = utc_now) -> None:
        self.service = service
        self.registry = registry
        self.clock = clock
        self._listeners: list[Callable[[list[RecordedEvent]], None]] = []

    def subscribe(self, listener: Callable[[list[RecordedEvent]], None]) -> None:
        """Call ``listener`` (synchronously, cheaply) after each committed append.

        Used to wake the relay or the in-process bus at once instead of waiting for a poll.
        """
        self._listeners.append(listener)

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[DomainEvent],
        context: CommandContext,
    ) -> list[RecordedEvent]:
        """Append ``events`` to one stream; see :meth:`append_many`."""
        return await self.append_many([AppendRequest(stream_id, expected_version, events)], context)

    async def append_many(
        self, requests: Sequence[AppendRequest], context: CommandContext
    ) -> list[RecordedEvent]:
        """Append to several streams in one transaction: all or nothing.

        Raises ``InvalidEventError`` for bad input and ``ConcurrencyError`` when a stream is not
        at its expected version; in both cases nothing is stored.
        """
        prepared = self._prepare(requests, context)
        recorded = await self._append(requests, prepared, context)
        for listener in self._listeners:
            listener(recorded)
        return recorded

    def _prepare(
        self, requests: Sequence[AppendRequest], context: CommandContext
    ) -> list[PreparedEvent]:
        if not requests:
            raise InvalidEventError("requests", "nothing to append")
        seen: set[str] = set()
        prepared: list[PreparedEvent] = []
        now = self.clock()
        now_text = format_time(now)  # every event of one append has the same time
        for index, request in enumerate(requests):
            stream_id = validate_stream_id(request.stream_id)
            if stream_id in seen:
                raise InvalidEventError("stream_id", f"{stream_id!r} appears twice in one append")
            seen.add(stream_id)
            if not isinstance(request.expected_version, int) or request.expected_version < 0:
                raise InvalidEventError("expected_version", "must be an integer >= 0")
            if not request.events:
                raise InvalidEventError("events", f"no events for stream {stream_id!r}")
            for offset, event in enumerate(request.events, start=1):
                if not isinstance(event, DomainEvent):
                    raise InvalidEventError("events", f"{type(event).__name__} is not an event")
                self.registry.validate(event)
                data = self._validated_data(event)
                prepared.append(
                    self._stamp(
                        index,
                        stream_id,
                        request.expected_version + offset,
                        event,
                        data,
                        now,
                        now_text,
                        context,
                    )
                )
        return prepared

    @staticmethod
    def _validated_data(event: DomainEvent) -> dict[str, Any]:
        # Validate again: model_construct() or model_copy(update=...) skip validation.
        try:
            checked = type(event).model_validate(event.model_dump())
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(part) for part in first["loc"])
            raise InvalidEventError(f"data.{loc}", first["msg"]) from exc
        return checked.model_dump(mode="json")

    def _stamp(
        self,
        index: int,
        stream_id: str,
        version: int,
        event: DomainEvent,
        data: dict[str, Any],
        now: datetime,
        now_text: str,
        context: CommandContext,
    ) -> PreparedEvent:
        event_id = uuid.uuid4()
        name, schema_version = event.type_key()
        content = hashed_content(
            event_id,
            self.service,
            name,
            schema_version,
            now_text,
            stream_id,
            version,
            context.actor,
            context.correlation_id,
            context.causation_id,
            data,
        )
        return PreparedEvent(
            stream_index=index,
            stream_id=stream_id,
            stream_version=version,
            event_id=event_id,
            event_type=name,
            schema_version=schema_version,
            time=now,
            data=data,
            digest=content_digest(content),
        )

    def ce_type_of(self, name: str, version: int) -> str:
        """The CloudEvents type this store gives an event type."""
        return ce_type(self.service, name, version)

    @abc.abstractmethod
    async def _append(
        self,
        requests: Sequence[AppendRequest],
        prepared: list[PreparedEvent],
        context: CommandContext,
    ) -> list[RecordedEvent]:
        """Check versions and idempotency, chain and insert, all under the store's lock."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and create the schema (idempotent)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections."""

    @abc.abstractmethod
    async def applied(self, command_id: UUID) -> list[RecordedEvent]:
        """The events a command id already appended (empty if it never ran)."""

    @abc.abstractmethod
    async def fingerprint(self, command_id: UUID) -> str | None:
        """The fingerprint recorded with a command id's first append (None if it never ran,
        or ran without one)."""

    async def replay(self, context: CommandContext) -> list[RecordedEvent]:
        """The events ``context``'s command id already appended (empty if it never ran, or
        ``context`` has none); raises :class:`~eventspine.errors.IdempotencyKeyReusedError`
        when they were appended for a request with another fingerprint.

        Both rows commit in one transaction and never change, so reading them one after the
        other cannot see one without the other."""
        if context.command_id is None:
            return []
        events = await self.applied(context.command_id)
        if events:
            check_fingerprint(context, await self.fingerprint(context.command_id))
        return events

    @abc.abstractmethod
    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        """A stream's events in version order (empty if the stream does not exist)."""

    @abc.abstractmethod
    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Events with ``position > after_position`` in position order, at most ``limit``."""

    @abc.abstractmethod
    async def read_outbox(self, after_position: int = 0, limit: int = 1000) -> list[OutboxRecord]:
        """Like :meth:`read_all`, but as ready-to-send Kafka records (the relay's read)."""

    @abc.abstractmethod
    async def head_position(self) -> int:
        """The highest position stored (0 when empty)."""

    @abc.abstractmethod
    async def load_checkpoint(self, name: str) -> int:
        """A reader's saved position (for example the relay's), 0 if none."""

    @abc.abstractmethod
    async def save_checkpoint(self, name: str, position: int) -> None:
        """Save a reader's position; it never moves backwards."""
