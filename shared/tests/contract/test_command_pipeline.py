"""The command pipeline on both store backends: idempotency (a key reused for another request
refused), stable ids, retries."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from eventspine.envelope import RecordedEvent
from eventspine.errors import IdempotencyKeyReusedError, StateConflictError
from eventspine.store.base import CommandContext, EventStore
from roster.events import UnitRegistered, UnitRenamed
from servicekit.commands import CommandPipeline, Route, UnknownCommandError, route

pytestmark = pytest.mark.integration


class RegisterUnit(BaseModel):
    model_config = ConfigDict(frozen=True)
    unit_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    name: str


class RenameUnit(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str


class RenameNothing(BaseModel):
    model_config = ConfigDict(frozen=True)


class Handlers:
    """Registers a unit once per id (a second registration is refused, as the roster does)."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.calls = 0
        self.clashes_left = 0
        self.before_read: Any = None

    async def register(self, command: RegisterUnit, ctx: CommandContext) -> list[RecordedEvent]:
        self.calls += 1
        if self.before_read is not None:
            hook, self.before_read = self.before_read, None
            await hook()
        stream = f"unit-{command.unit_id}"
        version = len(await self.store.read_stream(stream))
        if version:
            raise StateConflictError("unit_id", "a unit with this id exists")
        if self.clashes_left:
            # A concurrent append to the same stream wins the race once.
            self.clashes_left -= 1
            await self.store.append(stream, 0, [self._event(command, "其他")], _other())
        event = self._event(command, command.name)
        return await self.store.append(stream, version, [event], ctx)

    async def rename(
        self, command: RenameUnit, ctx: CommandContext, unit_id: uuid.UUID
    ) -> list[RecordedEvent]:
        self.calls += 1
        stream = f"unit-{unit_id}"
        version = len(await self.store.read_stream(stream))
        event = UnitRenamed(unit_id=unit_id, name=command.name)
        return await self.store.append(stream, version, [event], ctx)

    @staticmethod
    def _event(command: RegisterUnit, name: str) -> UnitRegistered:
        return UnitRegistered(unit_id=command.unit_id, name=name, kind="city_federation")


def _other() -> CommandContext:
    return CommandContext(actor="staff:other")


class CatchUp:
    def __init__(self) -> None:
        self.count = 0

    async def __call__(self) -> int:
        self.count += 1
        return 0


def _pipeline(store: EventStore) -> tuple[CommandPipeline, Handlers, CatchUp]:
    handlers = Handlers(store)
    catch_up = CatchUp()
    routes: dict[type[BaseModel], Route] = {
        RegisterUnit: route(handlers.register, "unit_id"),
        RenameUnit: route(handlers.rename),
    }
    return CommandPipeline(store, routes, catch_up), handlers, catch_up


async def test_a_retry_with_the_same_key_answers_the_first_events_and_decides_nothing(
    store: EventStore,
) -> None:
    pipeline, handlers, catch_up = _pipeline(store)
    ctx = CommandContext(actor="staff:test", command_id=uuid.uuid4())
    first = await pipeline.run(RegisterUnit(name="阳泉市总工会"), ctx)
    again = await pipeline.run(RegisterUnit(name="阳泉市总工会"), ctx)
    assert [e.id for e in again.events] == [e.id for e in first.events]
    assert handlers.calls == 1
    assert catch_up.count == 1  # the read models caught up after the one append
    assert await store.head_position() == 1


async def test_a_create_command_names_the_same_aggregate_on_every_retry(store: EventStore) -> None:
    pipeline, _, _ = _pipeline(store)
    key = uuid.uuid4()
    outcome = await pipeline.run(
        RegisterUnit.model_validate({"name": "平定县总工会"}),
        CommandContext(actor="staff:test", command_id=key),
    )
    assert outcome.command.unit_id == uuid.uuid5(key, "unit_id")
    assert outcome.events[0].stream_id == f"unit-{uuid.uuid5(key, 'unit_id')}"
    given = uuid.uuid4()
    chosen = await pipeline.run(
        RegisterUnit(unit_id=given, name="盂县总工会"),
        CommandContext(actor="staff:test", command_id=uuid.uuid4()),
    )
    assert chosen.command.unit_id == given  # an id the client chose is kept


async def test_a_lost_race_is_decided_again_on_fresh_state(store: EventStore) -> None:
    pipeline, handlers, _ = _pipeline(store)
    handlers.clashes_left = 1
    with pytest.raises(StateConflictError, match="exists"):
        await pipeline.run(RegisterUnit(name="阳泉市总工会"), CommandContext(actor="staff:test"))
    assert handlers.calls == 2  # the second attempt saw the winner's unit and refused


async def test_a_twin_that_committed_meanwhile_is_answered_not_refused(store: EventStore) -> None:
    pipeline, handlers, _ = _pipeline(store)
    ctx = CommandContext(actor="staff:test", command_id=uuid.uuid4())
    command = RegisterUnit(name="阳泉市总工会")
    twin: list[RecordedEvent] = []

    async def twin_commits() -> None:
        # The same request, sent twice: the twin passes the pipeline's check and appends
        # while this one is between its check and its read.
        twin.extend(await handlers.register(command.model_copy(update={"unit_id": unit}), ctx))

    unit = uuid.uuid5(ctx.command_id or uuid.uuid4(), "unit_id")
    handlers.before_read = twin_commits
    outcome = await pipeline.run(command, ctx)
    assert [e.id for e in outcome.events] == [e.id for e in twin]
    assert await store.head_position() == 1


async def test_concurrent_retries_with_one_key_append_once(store: EventStore) -> None:
    pipeline, _, _ = _pipeline(store)
    ctx = CommandContext(actor="staff:test", command_id=uuid.uuid4())
    outcomes = await asyncio.gather(
        *(pipeline.run(RegisterUnit(name="阳泉市总工会"), ctx) for _ in range(5))
    )
    assert len({tuple(e.id for e in o.events) for o in outcomes}) == 1
    assert await store.head_position() == 1


async def test_a_key_reused_with_another_body_is_refused_and_the_same_body_still_answered(
    store: EventStore,
) -> None:
    pipeline, handlers, _ = _pipeline(store)
    ctx = CommandContext(actor="staff:test", command_id=uuid.uuid4())
    first = await pipeline.run(RegisterUnit(name="阳泉市总工会"), ctx)
    with pytest.raises(IdempotencyKeyReusedError) as info:
        await pipeline.run(RegisterUnit(name="平定县总工会"), ctx)
    assert info.value.command_id == str(ctx.command_id)
    assert handlers.calls == 1  # refused before deciding
    assert await store.head_position() == 1
    again = await pipeline.run(RegisterUnit(name="阳泉市总工会"), ctx)
    assert [e.id for e in again.events] == [e.id for e in first.events]
    assert await store.head_position() == 1


async def test_a_key_reused_by_another_account_or_with_another_path_id_is_refused(
    store: EventStore,
) -> None:
    pipeline, _, _ = _pipeline(store)
    made = await pipeline.run(RegisterUnit(name="阳泉市总工会"), CommandContext(actor="staff:a"))
    unit = made.command
    ctx = CommandContext(actor="staff:test", command_id=uuid.uuid4())
    first = await pipeline.run(RenameUnit(name="阳泉市总工会"), ctx, unit_id=unit.unit_id)
    with pytest.raises(IdempotencyKeyReusedError):
        await pipeline.run(RenameUnit(name="阳泉市总工会"), ctx, unit_id=uuid.uuid4())
    with pytest.raises(IdempotencyKeyReusedError):
        await pipeline.run(
            RenameUnit(name="阳泉市总工会"), replace(ctx, actor="staff:other"), unit_id=unit.unit_id
        )
    assert await store.head_position() == 2
    again = await pipeline.run(RenameUnit(name="阳泉市总工会"), ctx, unit_id=unit.unit_id)
    assert [e.id for e in again.events] == [e.id for e in first.events]


async def test_an_id_left_out_is_not_a_different_request(store: EventStore) -> None:
    # RegisterUnit's unit_id has a fresh default each time it is left out; the fingerprint
    # takes the fields as the client set them, so a retry that leaves it out again matches.
    pipeline, _, _ = _pipeline(store)
    ctx = CommandContext(actor="staff:test", command_id=uuid.uuid4())
    first = await pipeline.run(RegisterUnit.model_validate({"name": "盂县总工会"}), ctx)
    again = await pipeline.run(RegisterUnit.model_validate({"name": "盂县总工会"}), ctx)
    assert [e.id for e in again.events] == [e.id for e in first.events]
    with pytest.raises(IdempotencyKeyReusedError):  # naming the id is another request
        await pipeline.run(RegisterUnit(unit_id=first.command.unit_id, name="盂县总工会"), ctx)


async def test_a_twin_with_another_body_that_committed_meanwhile_is_refused(
    store: EventStore,
) -> None:
    pipeline, handlers, _ = _pipeline(store)
    ctx = CommandContext(actor="staff:test", command_id=uuid.uuid4())
    twin: list[RecordedEvent] = []

    async def twin_commits() -> None:
        # A different request under the same key (naming the same new unit) runs through the
        # pipeline while this one is between its check and its read: this one's handler then
        # refuses ("exists"), and the pipeline finds the twin's events, of another request.
        other = RegisterUnit.model_validate({"name": "平定县总工会"})
        twin.extend((await pipeline.run(other, ctx)).events)

    handlers.before_read = twin_commits
    with pytest.raises(IdempotencyKeyReusedError):
        await pipeline.run(RegisterUnit.model_validate({"name": "阳泉市总工会"}), ctx)
    assert handlers.calls == 2  # this one's handler ran, and refused
    assert [e.id for e in await store.read_all()] == [e.id for e in twin]
    assert [e.data["name"] for e in twin] == ["平定县总工会"]


async def test_concurrent_requests_with_one_key_and_other_bodies_append_one(
    store: EventStore,
) -> None:
    pipeline, _, _ = _pipeline(store)
    ctx = CommandContext(actor="staff:test", command_id=uuid.uuid4())
    names = ["阳泉市总工会", "平定县总工会", "盂县总工会", "郊区总工会", "矿区总工会"]
    outcomes = await asyncio.gather(
        *(pipeline.run(RegisterUnit(name=name), ctx) for name in names), return_exceptions=True
    )
    done = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(done) == 1
    assert [type(o) for o in refused] == [IdempotencyKeyReusedError] * 4
    assert [e.data["name"] for e in await store.read_all()] == [done[0].command.name]


async def test_a_command_without_a_route_is_a_wiring_error(store: EventStore) -> None:
    pipeline, _, _ = _pipeline(store)
    with pytest.raises(UnknownCommandError, match="RenameNothing"):
        await pipeline.run(RenameNothing(), CommandContext(actor="staff:test"))
