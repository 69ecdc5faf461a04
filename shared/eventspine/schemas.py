"""JSON Schemas of the event types, generated from their models and committed to the repo.

Subscribers validate record values against ``schemas/events/<service>/<Name>.v<N>.json``;
``schemas/asyncapi.json`` describes the topics.
:func:`check` fails when a committed schema no longer matches its model, or when a committed
event type has disappeared (events are forever: add a version, never remove one).
"""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from eventspine import asyncapi
from eventspine.envelope import ce_type, dataschema
from eventspine.events import EventCatalogue, EventRegistry

ENTRY_POINT_GROUP = "sanlian.events"


def installed_registry() -> EventRegistry:
    """A registry of every service catalogue installed (entry points ``sanlian.events``)."""
    registry = EventRegistry()
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        catalogue = entry.load()
        if not isinstance(catalogue, EventCatalogue):
            raise TypeError(f"entry point {entry.value} is not an EventCatalogue")
        registry.add_catalogue(entry.name, catalogue)
    return registry


def render(registry: EventRegistry) -> dict[str, str]:
    """``{relative path: JSON text}`` of every event type's schema."""
    files: dict[str, str] = {}
    for (name, version), model in registry:
        service = registry.source_of(name, version)
        schema: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": dataschema(service, name, version),
            "x-cloudevents-type": ce_type(service, name, version),
            **model.model_json_schema(),
        }
        schema["title"] = f"{name} v{version}"
        text = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        files[f"{service}/{name}.v{version}.json"] = text
    return files


def _all_files(registry: EventRegistry) -> dict[str, str]:
    files = {f"events/{path}": text for path, text in render(registry).items()}
    files["asyncapi.json"] = asyncapi.render(registry)
    return files


def generate(root: Path, registry: EventRegistry) -> list[Path]:
    """Write every schema and the AsyncAPI document under ``root``; return what changed."""
    written = []
    for relative, text in _all_files(registry).items():
        path = root / relative
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def check(root: Path, registry: EventRegistry) -> list[str]:
    """Problems between the committed files under ``root`` and the models (empty: all good)."""
    expected = _all_files(registry)
    problems = []
    for relative, text in expected.items():
        path = root / relative
        if not path.exists():
            problems.append(f"{relative}: not committed (run `make schemas`)")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(
                f"{relative}: stale (run `make schemas`)"
                if relative == "asyncapi.json"
                else f"{relative}: differs from its model (add a new version instead)"
            )
    for path in sorted(root.rglob("*.json")):
        relative = path.relative_to(root).as_posix()
        if relative not in expected:
            problems.append(f"{relative}: committed but no model declares it any more")
    return problems
