"""The committed AsyncAPI document is valid AsyncAPI 3.0 and names every event type."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema

from eventspine.schemas import installed_registry

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT / "deploy/spec/node_modules/@asyncapi/specs/schemas/3.0.0.json"
"""The specification's own JSON Schema, from the pinned npm package ``@asyncapi/specs``
(installed by ``make install``)."""


def _validator() -> Any:
    assert SPEC.is_file(), f"{SPEC} is missing: run `make install`"
    spec = json.loads(SPEC.read_text())
    return jsonschema.validators.validator_for(spec)(spec)


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ROOT / "schemas/asyncapi.json").read_text())
    return document


def test_the_asyncapi_document_is_valid_asyncapi_3() -> None:
    document = _document()
    assert document["asyncapi"] == "3.0.0"
    problems = [f"{list(e.path)}: {e.message}" for e in _validator().iter_errors(document)]
    assert problems == []


def test_the_validation_would_catch_a_broken_document() -> None:
    broken = copy.deepcopy(_document())
    first = next(iter(broken["channels"]))
    broken["channels"][first]["address"] = 42
    broken["unexpected"] = True
    assert len(list(_validator().iter_errors(broken))) >= 2


def test_every_topic_and_event_type_is_described() -> None:
    document = _document()
    addresses = {channel["address"] for channel in document["channels"].values()}
    services = ("roster", "contacts", "feedback", "notify")
    assert addresses == {f"sanlian.{s}.events" for s in services}
    messages = set(document["components"]["messages"])
    expected = {f"{name}.v{version}" for (name, version), _ in installed_registry()}
    assert messages == expected
