"""The committed JSON Schemas are exactly what the event models generate."""

from __future__ import annotations

from pathlib import Path

from eventspine.events import DomainEvent, EventRegistry
from eventspine.schemas import check, generate, installed_registry

ROOT = Path(__file__).resolve().parents[3] / "schemas"


def test_committed_schemas_match_the_event_models() -> None:
    assert check(ROOT, installed_registry()) == []


def test_the_check_fails_when_a_model_changes_without_a_new_version(tmp_path: Path) -> None:
    class Renamed(DomainEvent):
        event_type = "Renamed"
        event_version = 1
        name: str

    class RenamedChanged(DomainEvent):
        event_type = "Renamed"
        event_version = 1
        name: str
        reason: str

    generate(tmp_path, EventRegistry([Renamed]))
    problems = check(tmp_path, EventRegistry([RenamedChanged]))
    assert problems == [
        "events/sanlian/Renamed.v1.json: differs from its model (add a new version instead)"
    ]


def test_the_check_fails_when_an_event_type_disappears(tmp_path: Path) -> None:
    class Gone(DomainEvent):
        event_type = "Gone"
        event_version = 1

    generate(tmp_path, EventRegistry([Gone]))
    assert check(tmp_path, EventRegistry()) == [
        "asyncapi.json: stale (run `make schemas`)",
        "events/sanlian/Gone.v1.json: committed but no model declares it any more",
    ]
