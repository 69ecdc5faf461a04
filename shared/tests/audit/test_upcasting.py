"""An event stored in an older schema version replays as the latest version (test-only type)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from audit.replay import upcast
from audit.sources import History, read_sqlite
from eventspine.config import Settings
from eventspine.events import DomainEvent, EventCatalogue
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


async def test_a_v1_event_in_a_store_replays_as_v2(tmp_path: Path) -> None:
    registry = installed_registry()
    registry.add_catalogue(
        "roster", EventCatalogue([AuditNoteV1, AuditNote], {("AuditNote", 1): _v1_to_v2})
    )
    store = SqliteEventStore(str(tmp_path / "roster-events.sqlite"), "roster", registry)
    await store.open()
    try:
        await store.append(
            f"note-{uuid.uuid4()}", 0, [AuditNoteV1(text="old")], CommandContext(actor="t")
        )
    finally:
        await store.close()
    history: History = await read_sqlite(Settings(sqlite_dir=str(tmp_path)), ("roster",))
    [stored] = history.events["roster"]
    assert (stored.schema_version, stored.data) == (1, {"text": "old"})
    replayed = upcast(stored, registry)
    assert (replayed.event_type, replayed.schema_version) == ("AuditNote", 2)
    assert replayed.data == {"title": "old", "severity": "info"}
    assert replayed.hash == stored.hash  # the chain covers what was recorded
