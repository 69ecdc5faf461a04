"""The embedded default's bus feeds projections like the Kafka runner does."""

from __future__ import annotations

import uuid
from pathlib import Path

from eventspine.bus import InProcessBus, SqliteTx
from eventspine.store.base import NO_STREAM, CommandContext
from eventspine.store.sqlite import SqliteEventStore
from support.sample import AssignmentLog, assigned, unit

CTX = CommandContext(actor="staff:test")


async def rows(bus: InProcessBus, table: str) -> list[tuple[str, int]]:
    result = await SqliteTx(bus.db).fetch(
        f"SELECT upper_member_id, assigned FROM {table}_counts ORDER BY upper_member_id"
    )
    return [(r[0], r[1]) for r in result]


async def test_the_bus_applies_each_event_once_and_a_rebuild_gives_the_same_rows(
    sqlite_store: SqliteEventStore, tmp_path: Path
) -> None:
    upper = uuid.uuid4()
    await sqlite_store.append("member-1", NO_STREAM, [assigned(upper), assigned(upper)], CTX)
    await sqlite_store.append("unit-1", NO_STREAM, [unit()], CTX)
    projection = AssignmentLog("assignments", "assignments")
    bus = InProcessBus([sqlite_store], [projection], str(tmp_path / "reports.sqlite"))
    await bus.open()
    try:
        assert await bus.drain() == 3
        assert await bus.drain() == 0
        await sqlite_store.append("member-1", 2, [assigned(upper)], CTX)
        assert await bus.drain() == 1
        live = await rows(bus, "assignments")
        assert live == [(str(upper), 3)]

        await bus.reset(projection)
        assert await rows(bus, "assignments") == []
        assert await bus.drain() == 4
        assert await rows(bus, "assignments") == live
    finally:
        await bus.close()
