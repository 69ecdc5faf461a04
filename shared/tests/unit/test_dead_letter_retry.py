"""The dead letters outlive a producer the broker refuses for good: a fresh producer sends the
record, and a second failure goes up to the runner (which starts again later).

The producers are stand-ins (a unit test of the renewal; the real-broker path of the dead
letters is covered by the integration and fault tests)."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, OutOfOrderSequenceNumber
from aiokafka.structs import ConsumerRecord

from eventspine.deadletter import KafkaDeadLetters


class Producer:
    """Records what it sends; refuses every send with ``error`` when given one."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.sent: list[tuple[str, Any, list[tuple[str, bytes]]]] = []
        self.started = self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def send_and_wait(self, topic: str, value: Any, key: Any, headers: Any) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append((topic, value, headers))


def record() -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(
        topic="sanlian.roster.events",
        partition=2,
        offset=41,
        timestamp=0,
        timestamp_type=0,
        key=b"member-1",
        value=b"not json",
        checksum=None,
        serialized_key_size=8,
        serialized_value_size=8,
        headers=[],
    )


async def test_a_producer_refused_for_good_is_replaced_and_the_record_set_aside() -> None:
    wedged, fresh = Producer(OutOfOrderSequenceNumber()), Producer()
    letters = KafkaDeadLetters(wedged, producer_factory=lambda: fresh)
    await letters.send(record(), "body is not JSON")
    assert wedged.stopped
    assert fresh.started
    assert letters.producer is fresh
    [(topic, value, headers)] = fresh.sent
    assert topic == "sanlian.roster.events.dlq"
    assert value == b"not json"
    assert ("dlq_reason", b"body is not JSON") in headers
    assert ("dlq_offset", b"41") in headers


async def test_a_second_failure_goes_up_to_the_runner() -> None:
    wedged, also_down = Producer(OutOfOrderSequenceNumber()), Producer(KafkaConnectionError())
    letters = KafkaDeadLetters(wedged, producer_factory=lambda: also_down)
    with pytest.raises(KafkaConnectionError):
        await letters.send(record(), "unknown event type")


async def test_without_a_factory_the_error_goes_up_at_once() -> None:
    letters = KafkaDeadLetters(Producer(OutOfOrderSequenceNumber()))
    with pytest.raises(OutOfOrderSequenceNumber):
        await letters.send(record(), "unknown event type")
