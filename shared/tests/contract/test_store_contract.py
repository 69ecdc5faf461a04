"""The event store contract, run against PostgreSQL and SQLite alike."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import Any

import pytest

from eventspine.envelope import GENESIS_HASH, RecordedEvent
from eventspine.errors import (
    ConcurrencyError,
    IdempotencyConflictError,
    IdempotencyKeyReusedError,
    InvalidEventError,
    UnknownEventTypeError,
)
from eventspine.events import DomainEvent
from eventspine.hashing import verify_chain
from eventspine.store.base import NO_STREAM, AppendRequest, CommandContext, EventStore
from support.sample import assigned, unit

pytestmark = pytest.mark.integration

CTX = CommandContext(actor="staff:test")


class NotRegistered(DomainEvent):
    event_type = "NotRegistered"
    event_version = 1
    value: int


async def test_appended_events_are_read_back_in_order_with_positions(store: EventStore) -> None:
    recorded = await store.append("unit-1", NO_STREAM, [unit(), unit("盂县总工会")], CTX)
    assert [e.stream_version for e in recorded] == [1, 2]
    assert [e.position for e in recorded] == [1, 2]
    more = await store.append("unit-2", NO_STREAM, [unit()], CTX)
    assert more[0].position == 3

    stream = await store.read_stream("unit-1")
    assert [e.id for e in stream] == [e.id for e in recorded]
    assert stream[1].data["name"] == "盂县总工会"
    assert [e.position for e in await store.read_all(1)] == [2, 3]
    assert await store.head_position() == 3


async def test_recorded_events_carry_actor_correlation_causation_and_a_valid_chain(
    store: EventStore,
) -> None:
    cause = uuid.uuid4()
    ctx = CommandContext(actor="member:42", causation_id=cause)
    first = await store.append("unit-1", NO_STREAM, [unit()], ctx)
    second = await store.append("unit-1", 1, [unit(), unit()], ctx)
    events = await store.read_stream("unit-1")
    assert events == first + second
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert all(e.actor == "member:42" and e.causation_id == cause for e in events)
    assert all(e.correlation_id == ctx.correlation_id for e in events)
    assert verify_chain(events) == 3


async def test_a_wrong_expected_version_is_refused_and_stores_nothing(store: EventStore) -> None:
    await store.append("unit-1", NO_STREAM, [unit()], CTX)
    with pytest.raises(ConcurrencyError) as info:
        await store.append("unit-1", NO_STREAM, [unit()], CTX)
    assert (info.value.expected, info.value.actual) == (0, 1)
    with pytest.raises(ConcurrencyError):
        await store.append("unit-1", 5, [unit()], CTX)
    assert len(await store.read_stream("unit-1")) == 1
    assert await store.head_position() == 1


async def test_a_multi_stream_append_is_all_or_nothing(store: EventStore) -> None:
    await store.append("unit-b", NO_STREAM, [unit()], CTX)
    with pytest.raises(ConcurrencyError):
        await store.append_many(
            [AppendRequest("unit-a", NO_STREAM, [unit()]), AppendRequest("unit-b", 0, [unit()])],
            CTX,
        )
    assert await store.read_stream("unit-a") == []
    both = await store.append_many(
        [AppendRequest("unit-a", NO_STREAM, [unit()]), AppendRequest("unit-b", 1, [unit()])], CTX
    )
    assert [(e.stream_id, e.stream_version, e.position) for e in both] == [
        ("unit-a", 1, 2),
        ("unit-b", 2, 3),
    ]


async def test_a_retried_command_appends_nothing_twice(store: EventStore) -> None:
    ctx = CommandContext(actor="staff:test", command_id=uuid.uuid4())
    first = await store.append("unit-1", NO_STREAM, [unit()], ctx)
    retry = await store.append("unit-1", NO_STREAM, [unit()], ctx)
    assert [e.id for e in retry] == [e.id for e in first]
    assert await store.head_position() == 1
    with pytest.raises(IdempotencyConflictError):
        await store.append("unit-other", NO_STREAM, [unit()], ctx)
    assert await store.head_position() == 1


async def test_a_command_id_keeps_the_fingerprint_of_its_first_request(store: EventStore) -> None:
    ctx = CommandContext(actor="staff:test", command_id=uuid.uuid4(), fingerprint="a" * 64)
    first = await store.append("unit-1", NO_STREAM, [unit()], ctx)
    assert ctx.command_id is not None
    assert await store.fingerprint(ctx.command_id) == "a" * 64
    assert await store.fingerprint(uuid.uuid4()) is None
    retry = await store.append("unit-1", NO_STREAM, [unit()], ctx)
    assert [e.id for e in retry] == [e.id for e in first]
    assert await store.replay(ctx) == first
    other = replace(ctx, fingerprint="b" * 64)
    for stream in ("unit-1", "unit-other"):  # another request, whatever stream it names
        with pytest.raises(IdempotencyKeyReusedError):
            await store.append(stream, NO_STREAM, [unit()], other)
    with pytest.raises(IdempotencyKeyReusedError):
        await store.replay(other)
    assert await store.head_position() == 1
    # Without a fingerprint on either side nothing is compared: a retry, as before.
    assert await store.replay(replace(ctx, fingerprint=None)) == first
    bare = CommandContext(actor="staff:test", command_id=uuid.uuid4())
    made = await store.append("unit-2", NO_STREAM, [unit()], bare)
    assert bare.command_id is not None
    assert await store.fingerprint(bare.command_id) is None
    assert await store.replay(replace(bare, fingerprint="c" * 64)) == made
    await store.close()
    await store.open()
    assert await store.fingerprint(ctx.command_id) == "a" * 64


async def test_concurrent_appends_under_one_command_id_keep_the_first_fingerprint(
    store: EventStore,
) -> None:
    key = uuid.uuid4()
    contexts = [
        CommandContext(actor="staff:test", command_id=key, fingerprint=f"{n}" * 64)
        for n in range(6)
    ]
    outcomes = await asyncio.gather(
        *(store.append(f"unit-{n}", NO_STREAM, [unit()], c) for n, c in enumerate(contexts)),
        return_exceptions=True,
    )
    done = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(done) == 1
    assert [type(o) for o in refused] == [IdempotencyKeyReusedError] * 5
    winner = outcomes.index(done[0])
    assert await store.fingerprint(key) == contexts[winner].fingerprint
    assert await store.head_position() == 1


@pytest.mark.parametrize(
    ("stream_id", "field"),
    [
        ("", "stream_id"),
        ("x" * 201, "stream_id"),
        ("has space", "stream_id"),
        ("-lead", "stream_id"),
    ],
)
async def test_bad_stream_ids_are_refused(store: EventStore, stream_id: str, field: str) -> None:
    with pytest.raises(InvalidEventError) as info:
        await store.append(stream_id, NO_STREAM, [unit()], CTX)
    assert info.value.field == field
    assert await store.head_position() == 0


async def test_a_stream_id_of_the_maximum_length_is_accepted(store: EventStore) -> None:
    await store.append("x" * 200, NO_STREAM, [unit()], CTX)
    assert await store.head_position() == 1


async def test_an_unknown_event_type_is_refused(store: EventStore) -> None:
    with pytest.raises(UnknownEventTypeError) as info:
        await store.append("s-1", NO_STREAM, [unit(), NotRegistered(value=1)], CTX)
    assert info.value.field == "type"
    assert await store.head_position() == 0


async def test_a_payload_failing_its_schema_is_refused(store: EventStore) -> None:
    bad: Any = unit().model_copy(update={"name": ""})  # bypasses validation, as buggy code might
    with pytest.raises(InvalidEventError) as info:
        await store.append("unit-1", NO_STREAM, [bad], CTX)
    assert "name" in str(info.value)
    assert await store.head_position() == 0


@pytest.mark.parametrize("expected", [-1, "1"])
async def test_a_malformed_expected_version_is_refused(store: EventStore, expected: Any) -> None:
    with pytest.raises(InvalidEventError) as info:
        await store.append("unit-1", expected, [unit()], CTX)
    assert info.value.field == "expected_version"
    assert await store.head_position() == 0


async def test_an_empty_append_is_refused(store: EventStore) -> None:
    with pytest.raises(InvalidEventError):
        await store.append("unit-1", NO_STREAM, [], CTX)


async def test_checkpoints_never_move_backwards(store: EventStore) -> None:
    assert await store.load_checkpoint("relay:x") == 0
    await store.save_checkpoint("relay:x", 7)
    await store.save_checkpoint("relay:x", 3)
    assert await store.load_checkpoint("relay:x") == 7


async def test_events_survive_reopening_the_store(store: EventStore) -> None:
    recorded = await store.append("unit-1", NO_STREAM, [assigned()], CTX)
    await store.close()
    await store.open()
    assert await store.read_stream("unit-1") == recorded


async def test_outbox_records_are_the_events_kafka_form(store: EventStore) -> None:
    ctx = CommandContext(actor="member:7", causation_id=uuid.uuid4())
    await store.append("unit-1", NO_STREAM, [unit("跃进煤业工会"), unit()], ctx)
    await store.append("member-1", NO_STREAM, [assigned()], CTX)
    events = await store.read_all(1)
    records = await store.read_outbox(1)
    assert [r.position for r in records] == [e.position for e in events] == [2, 3]
    for record, event in zip(records, events, strict=True):
        assert record.key == event.stream_id.encode()
        assert record.headers == event.kafka_headers()
        assert RecordedEvent.from_kafka(record.headers, record.value) == event.model_copy(
            update={"command_id": None}
        )
