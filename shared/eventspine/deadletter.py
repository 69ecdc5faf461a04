"""Dead letters: records a consumer cannot apply go aside with the reason, and it keeps going.

A record without the CloudEvents headers, with an unknown event type, a body that is not JSON,
or data that fails its event type's schema would otherwise stop a projection for good. It is
published to ``<topic>.dlq`` unchanged (key, value, headers) plus ``dlq_reason``,
``dlq_topic``, ``dlq_partition`` and ``dlq_offset`` headers, for an operator to inspect.
"""

from __future__ import annotations

from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from eventspine.envelope import RecordedEvent
from eventspine.events import EventRegistry


class DeadLetters(Protocol):
    """Where refused records go."""

    async def send(self, record: ConsumerRecord[Any, Any], reason: str) -> None:
        """Set ``record`` aside with ``reason`` (acknowledged before this returns)."""


def dead_letter_topic(topic: str) -> str:
    """The dead-letter topic of ``topic``."""
    return f"{topic}.dlq"


class KafkaDeadLetters:
    """Dead letters published to ``<topic>.dlq`` with an idempotent, acks=all producer."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer

    async def send(self, record: ConsumerRecord[Any, Any], reason: str) -> None:
        """Publish the record unchanged, with where it came from and why it was refused."""
        headers = [
            *(record.headers or ()),
            ("dlq_reason", reason.encode()),
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
        ]
        await self.producer.send_and_wait(
            dead_letter_topic(record.topic), record.value, key=record.key, headers=headers
        )


def decode(record: ConsumerRecord[Any, Any], registry: EventRegistry | None) -> RecordedEvent:
    """The event in a record; with a registry, its data is checked against its event type.

    Raises ``ValueError`` (or ``KeyError``) naming what is wrong with the record.
    """
    try:
        event = RecordedEvent.from_kafka(record.headers or (), record.value or b"")
    except KeyError as exc:
        raise ValueError(f"missing CloudEvents header ce_{exc.args[0]}") from None
    except Exception as exc:
        raise ValueError(f"not a Sanlian CloudEvent: {exc}") from None
    if registry is not None:
        registry.decode(event.event_type, event.schema_version, event.data)
    return event
