"""The recorded event: a CloudEvents 1.0 envelope plus stream, position, audit and hash chain.

Every stored event becomes a :class:`RecordedEvent`. On Kafka it travels in CloudEvents *binary
content mode*: the attributes as ``ce_*`` headers, the event data (JSON) as the record value.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import from_json

SPECVERSION = "1.0"
GENESIS_HASH = "0" * 64
STREAM_ID_MAX = 200
STREAM_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
_TYPE_PATTERN = re.compile(r"^sanlian\.(?P<service>[a-z]+)\.(?P<name>[A-Za-z0-9]+)\.v(?P<v>\d+)$")


def format_time(moment: datetime) -> str:
    """The one textual form of an event time: UTC, microseconds, ``Z`` (RFC 3339)."""
    if moment.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ce_type(service: str, name: str, version: int) -> str:
    """The CloudEvents ``type`` of an event: ``sanlian.<service>.<Name>.v<version>``."""
    return f"sanlian.{service}.{name}.v{version}"


def parse_ce_type(value: str) -> tuple[str, str, int]:
    """Split a CloudEvents ``type`` into ``(service, name, version)``."""
    match = _TYPE_PATTERN.match(value)
    if match is None:
        raise ValueError(f"not a Sanlian event type: {value!r}")
    return match["service"], match["name"], int(match["v"])


def dataschema(service: str, name: str, version: int) -> str:
    """The URI of an event type's committed JSON Schema (``schemas/events/...`` in the repo)."""
    return f"urn:sanlian:schema:{service}:{name}:v{version}"


def hashed_content(
    event_id: UUID,
    service: str,
    name: str,
    version: int,
    time: str,
    stream_id: str,
    stream_version: int,
    actor: str,
    correlation_id: UUID,
    causation_id: UUID | None,
    data: dict[str, Any],
) -> dict[str, Any]:
    """What the hash chain covers of an event (:meth:`RecordedEvent.hashed_content`), from its
    values; ``time`` as :func:`format_time` writes it. The store hashes events before they
    exist as :class:`RecordedEvent`, without building one."""
    return {
        "id": str(event_id),
        "source": f"/sanlian/{service}",
        "type": ce_type(service, name, version),
        "time": time,
        "subject": stream_id,
        "streamversion": stream_version,
        "actor": actor,
        "correlationid": str(correlation_id),
        "causationid": str(causation_id) if causation_id else None,
        "data": data,
    }


KAFKA_ATTRIBUTES = (
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "subject",
    "dataschema",
    "streamversion",
    "position",
    "actor",
    "correlationid",
    "causationid",
    "prevhash",
    "hash",
)
"""CloudEvents attributes carried as ``ce_<name>`` Kafka headers, in this order."""
_HEADER_NAMES = tuple(f"ce_{name}" for name in KAFKA_ATTRIBUTES)
_CONTENT_TYPE = ("content-type", b"application/json")


@functools.cache
def type_attributes(service: str, name: str, version: int) -> tuple[str, str]:
    """``(type, dataschema)`` of an event type (cached: the relay asks for every event)."""
    return ce_type(service, name, version), dataschema(service, name, version)


def kafka_headers(values: Sequence[str | None]) -> list[tuple[str, bytes]]:
    """Kafka headers from attribute values in :data:`KAFKA_ATTRIBUTES` order."""
    headers = [
        (name, value.encode()) for name, value in zip(_HEADER_NAMES, values, strict=True) if value
    ]
    headers.append(_CONTENT_TYPE)
    return headers


class OutboxRecord(NamedTuple):
    """A stored event ready to publish: what the relay sends, read straight from the store."""

    position: int
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class RecordedEvent(BaseModel):
    """An event as stored: immutable, positioned, attributable and chained.

    ``position`` is the event's global position in its service's store (gap-free, commit
    order); ``stream_version`` counts from 1 within the stream. ``hash`` chains the event to
    ``prev_hash``, the hash of the stream's previous event (see :mod:`eventspine.hashing`).
    """

    model_config = ConfigDict(frozen=True)

    id: UUID
    service: str = Field(description="the service (and store) that recorded the event")
    event_type: str
    schema_version: int
    time: datetime
    stream_id: str
    stream_version: int
    position: int
    actor: str
    correlation_id: UUID
    causation_id: UUID | None = None
    command_id: UUID | None = None
    data: dict[str, Any]
    prev_hash: str
    hash: str

    @property
    def source(self) -> str:
        """CloudEvents ``source``: the producing service."""
        return f"/sanlian/{self.service}"

    @property
    def type(self) -> str:
        """CloudEvents ``type``, carrying the event name and schema version."""
        return ce_type(self.service, self.event_type, self.schema_version)

    def hashed_content(self) -> dict[str, Any]:
        """The fields the hash chain covers: everything but the position and the hashes."""
        return hashed_content(
            self.id,
            self.service,
            self.event_type,
            self.schema_version,
            format_time(self.time),
            self.stream_id,
            self.stream_version,
            self.actor,
            self.correlation_id,
            self.causation_id,
            self.data,
        )

    def cloudevent_attributes(self) -> dict[str, str]:
        """CloudEvents 1.0 context attributes and Sanlian extensions, as strings."""
        values = self.attribute_values()
        attributes = {
            name: value for name, value in zip(KAFKA_ATTRIBUTES, values, strict=True) if value
        }
        attributes["datacontenttype"] = "application/json"
        return attributes

    def attribute_values(self) -> tuple[str | None, ...]:
        """The attribute values in :data:`KAFKA_ATTRIBUTES` order (``None`` when absent)."""
        ce, schema = type_attributes(self.service, self.event_type, self.schema_version)
        return (
            SPECVERSION,
            str(self.id),
            self.source,
            ce,
            format_time(self.time),
            self.stream_id,
            schema,
            str(self.stream_version),
            str(self.position),
            self.actor,
            str(self.correlation_id),
            str(self.causation_id) if self.causation_id else None,
            self.prev_hash,
            self.hash,
        )

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        """Kafka record headers in CloudEvents binary content mode."""
        return kafka_headers(self.attribute_values())

    def kafka_value(self) -> bytes:
        """The Kafka record value: the event data as UTF-8 JSON."""
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_kafka(
        cls, headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...], value: bytes
    ) -> RecordedEvent:
        """Rebuild an event from a Kafka record written by :meth:`kafka_headers`.

        Every consumer decodes every record through here, so it does the least work that
        still checks everything: the JSON value goes through pydantic-core's parser (several
        times faster than :func:`json.loads` on these small documents), headers are looked up
        by name rather than all decoded, and the ids are converted by the model's own
        validation. Raises ``KeyError`` naming a missing attribute (without ``ce_``),
        ``ValueError`` for a malformed one.
        """
        attrs = dict(headers)
        try:
            service, name, version = _parsed_type(attrs["ce_type"])
            cause = attrs.get("ce_causationid")
            # The model's validator itself: model_validate() adds a call and keyword checks.
            event: RecordedEvent = cls.__pydantic_validator__.validate_python(
                {
                    "id": attrs["ce_id"].decode(),
                    "service": service,
                    "event_type": name,
                    "schema_version": version,
                    "time": datetime.fromisoformat(attrs["ce_time"].decode()),
                    "stream_id": attrs["ce_subject"].decode(),
                    "stream_version": int(attrs["ce_streamversion"]),
                    "position": int(attrs["ce_position"]),
                    "actor": attrs["ce_actor"].decode(),
                    "correlation_id": attrs["ce_correlationid"].decode(),
                    "causation_id": cause.decode() if cause else None,
                    "data": from_json(value),
                    "prev_hash": attrs["ce_prevhash"].decode(),
                    "hash": attrs["ce_hash"].decode(),
                }
            )
            return event
        except KeyError as exc:
            raise KeyError(str(exc.args[0]).removeprefix("ce_")) from None


@functools.lru_cache(maxsize=4096)
def _parsed_type(value: bytes) -> tuple[str, str, int]:
    # A handful of event types, each seen on every record of its kind.
    return parse_ce_type(value.decode())
