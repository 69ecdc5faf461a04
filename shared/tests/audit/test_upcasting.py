"""An event stored in an older schema version reaches the projections as the latest version,
in the auditor's replay and on a live feed alike (test-only type)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from audit.replay import delivered
from audit.sources import History, read_sqlite
from eventspine.bus import InProcessBus
from eventspine.config import Settings
from eventspine.events import DomainEvent, EventCatalogue, EventRegistry
from eventspine.projection import Delivered, Tx
from eventspine.schemas import installed_registry
from eventspine.store.base import CommandContext
from eventspine.store.sqlite import SqliteEventStore


class AuditNoteV1(DomainEvent):
    """v1: one free-text field."""

    event_type = "AuditNote"
    event_version = 1
    text: str


class AuditNote(DomainEvent):
    """v2: the text split into a title and a severity (added in v2, default 'info')."""

    event_type = "AuditNote"
    event_version = 2
    title: str
    severity: str


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {"title": data["text"], "severity": "info"}


class Notes:
    """A projection that keeps what it was given."""

    name = "notes"
    services = ("roster",)

    def __init__(self) -> None:
        self.seen: list[Delivered] = []

    async def setup(self, tx: Tx) -> None:
        pass

    async def reset(self, tx: Tx) -> None:
        self.seen.clear()

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        self.seen.append(delivered)


@pytest.fixture
def registry() -> EventRegistry:
    registry = installed_registry()
    registry.add_catalogue(
        "roster", EventCatalogue([AuditNoteV1, AuditNote], {("AuditNote", 1): _v1_to_v2})
    )
    return registry


@pytest.fixture
async def store(tmp_path: Path, registry: EventRegistry) -> AsyncIterator[SqliteEventStore]:
    """A roster store holding one ``AuditNote`` v1."""
    store = SqliteEventStore(str(tmp_path / "roster-events.sqlite"), "roster", registry)
    await store.open()
    try:
        await store.append(
            f"note-{uuid.uuid4()}", 0, [AuditNoteV1(text="old")], CommandContext(actor="t")
        )
        yield store
    finally:
        await store.close()


async def test_a_v1_event_in_a_store_replays_as_v2(
    tmp_path: Path, registry: EventRegistry, store: SqliteEventStore
) -> None:
    history: History = await read_sqlite(Settings(sqlite_dir=str(tmp_path)), ("roster",))
    [stored] = history.events["roster"]
    assert (stored.schema_version, stored.data) == (1, {"text": "old"})
    replayed = delivered(stored, registry)
    assert replayed.event == AuditNote(title="old", severity="info")
    assert replayed.record == stored  # the chain covers what was recorded, not the upcast form


async def test_a_live_feed_delivers_the_v1_event_as_the_replay_does(
    tmp_path: Path, registry: EventRegistry, store: SqliteEventStore
) -> None:
    notes = Notes()
    bus = InProcessBus([store], [notes], str(tmp_path / "notes.sqlite"))
    await bus.open()
    try:
        assert await bus.drain() == 1
    finally:
        await bus.close()
    [live] = notes.seen
    [stored] = (await read_sqlite(Settings(sqlite_dir=str(tmp_path)), ("roster",))).events["roster"]
    assert live == delivered(stored, registry)
