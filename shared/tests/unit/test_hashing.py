"""The hash chain proves that no event was altered, removed or inserted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from eventspine.envelope import GENESIS_HASH, RecordedEvent
from eventspine.errors import ChainBrokenError
from eventspine.hashing import chain_hash, content_digest, verify_chain


def chain(count: int, stream: str = "unit-1") -> list[RecordedEvent]:
    events: list[RecordedEvent] = []
    prev = GENESIS_HASH
    for version in range(1, count + 1):
        draft = RecordedEvent(
            id=uuid.uuid4(),
            service="roster",
            event_type="UnitRenamed",
            schema_version=1,
            time=datetime(2026, 1, version, tzinfo=UTC),
            stream_id=stream,
            stream_version=version,
            position=version,
            actor="staff:1",
            correlation_id=uuid.uuid4(),
            data={"name": f"工会 {version}", "n": version},
            prev_hash=prev,
            hash="",
        )
        event = draft.model_copy(
            update={"hash": chain_hash(prev, content_digest(draft.hashed_content()))}
        )
        events.append(event)
        prev = event.hash
    return events


def test_an_intact_chain_verifies() -> None:
    assert verify_chain(chain(5)) == 5


def test_an_altered_payload_is_detected() -> None:
    events = chain(3)
    events[1] = events[1].model_copy(update={"data": {"name": "改过", "n": 2}})
    with pytest.raises(ChainBrokenError, match="v2: content"):
        verify_chain(events)


def test_a_removed_event_is_detected() -> None:
    events = chain(3)
    with pytest.raises(ChainBrokenError, match="expected version 2"):
        verify_chain([events[0], events[2]])


def test_a_forged_actor_is_detected() -> None:
    events = chain(2)
    events[0] = events[0].model_copy(update={"actor": "staff:2"})
    with pytest.raises(ChainBrokenError):
        verify_chain(events)


def test_the_digest_does_not_depend_on_key_order() -> None:
    assert content_digest({"a": 1, "b": [1, "二"]}) == content_digest({"b": [1, "二"], "a": 1})


def test_kafka_headers_round_trip_to_the_same_event() -> None:
    event = chain(1)[0]
    assert RecordedEvent.from_kafka(event.kafka_headers(), event.kafka_value()) == event


@pytest.mark.parametrize(
    "content",
    [
        {"name": "张东峰", "n": 1, "nested": {"b": [1, "二", None, True], "a": {}}},
        {"text": 'quote " backslash \\ slash / tab \t newline \n bell \x07 del \x7f'},
        {"emoji": "工会 👷", "empty": "", "big": 2**53 - 1, "negative": -5, "flag": False},
        {"fraction": 0.1, "exp": 1e21, "small": 5e-7, "list": [1.5, 2.0]},
    ],
)
def test_canonical_json_is_rfc_8785(content: dict[str, Any]) -> None:
    import rfc8785

    from eventspine.hashing import canonical_json

    assert canonical_json(content) == rfc8785.dumps(content)


def test_integers_beyond_the_safe_range_are_refused_as_jcs_does() -> None:
    from eventspine.hashing import canonical_json

    with pytest.raises(ValueError, match="safe integer"):
        canonical_json({"n": 2**60})
