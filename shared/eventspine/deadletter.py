"""Dead letters: records a consumer cannot apply go aside with the reason, and it keeps going.

A record without the CloudEvents headers, with an unknown event type, a body that is not JSON,
or data that fails its event type's schema would otherwise stop a projection for good. It is
published to ``<topic>.dlq`` unchanged (key, value, headers) plus ``dlq_reason``,
``dlq_topic``, ``dlq_partition`` and ``dlq_offset`` headers, for an operator to inspect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord

from eventspine.envelope import RecordedEvent
from eventspine.events import EventRegistry
from eventspine.kafka import replace_producer
from eventspine.projection import Delivered, deliver


class DeadLetters(Protocol):
    """Where refused records go."""

    async def send(self, record: ConsumerRecord[Any, Any], reason: str) -> None:
        """Set ``record`` aside with ``reason`` (acknowledged before this returns)."""


def dead_letter_topic(topic: str) -> str:
    """The dead-letter topic of ``topic``."""
    return f"{topic}.dlq"


class KafkaDeadLetters:
    """Dead letters published to ``<topic>.dlq`` with an idempotent, acks=all producer.

    After a broker error the producer is replaced by one from ``producer_factory`` and the
    record sent once more: an idempotent producer whose sends failed in flight can be refused
    for good (``OutOfOrderSequenceNumber``), as the relay learned. Should the second send
    fail too, the error goes up, and the projection's runner starts again later from its
    stored offsets (the refused record comes round again; a copy in the dead-letter topic
    is harmless, each carries its source offset).
    """

    def __init__(
        self,
        producer: AIOKafkaProducer,
        producer_factory: Callable[[], AIOKafkaProducer] | None = None,
    ) -> None:
        self.producer = producer
        self.producer_factory = producer_factory

    async def start(self) -> None:
        """Connect the producer."""
        await self.producer.start()

    async def stop(self) -> None:
        """Flush and close the producer (the current one, if it was replaced)."""
        await self.producer.stop()

    async def send(self, record: ConsumerRecord[Any, Any], reason: str) -> None:
        """Publish the record unchanged, with where it came from and why it was refused."""
        headers = [
            *(record.headers or ()),
            ("dlq_reason", reason.encode()),
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
        ]
        topic = dead_letter_topic(record.topic)
        try:
            await self.producer.send_and_wait(topic, record.value, key=record.key, headers=headers)
        except KafkaError:
            if self.producer_factory is None:
                raise
            self.producer = await replace_producer(self.producer, self.producer_factory)
            await self.producer.send_and_wait(topic, record.value, key=record.key, headers=headers)


def decode(record: ConsumerRecord[Any, Any], registry: EventRegistry) -> Delivered:
    """The event in a record, decoded (and upcast) by the registry into its event type.

    Raises ``ValueError`` (or ``KeyError``) naming what is wrong with the record.
    """
    try:
        event = RecordedEvent.from_kafka(record.headers or (), record.value or b"")
    except KeyError as exc:
        raise ValueError(f"missing CloudEvents header ce_{exc.args[0]}") from None
    except Exception as exc:
        raise ValueError(f"not a Sanlian CloudEvent: {exc}") from None
    return deliver(event, registry)
