"""Event types: explicit names and versions, decoding, upcasting, refusal of bad payloads."""

from __future__ import annotations

from typing import Any

import pytest

from eventspine.errors import InvalidEventError, UnknownEventTypeError
from eventspine.events import DomainEvent, EventCatalogue, EventRegistry


class PointMarkedV1(DomainEvent):
    event_type = "PointMarked"
    event_version = 1
    x: int


class PointMarked(DomainEvent):
    event_type = "PointMarked"
    event_version = 2
    x: int
    y: int


def _add_y(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "y": 0}


def make_registry() -> EventRegistry:
    registry = EventRegistry()
    registry.add_catalogue(
        "sample", EventCatalogue([PointMarkedV1, PointMarked], {("PointMarked", 1): _add_y})
    )
    return registry


def test_an_old_version_is_upcast_to_the_latest_model() -> None:
    event = make_registry().decode("PointMarked", 1, {"x": 3})
    assert event == PointMarked(x=3, y=0)


def test_a_version_registered_after_its_successor_is_still_upcast() -> None:
    registry = EventRegistry([PointMarked])
    assert registry.decode("PointMarked", 2, {"x": 1, "y": 2}) == PointMarked(x=1, y=2)
    registry.add_catalogue("sample", EventCatalogue([PointMarkedV1], {("PointMarked", 1): _add_y}))
    assert registry.decode("PointMarked", 1, {"x": 3}) == PointMarked(x=3, y=0)
    with pytest.raises(InvalidEventError, match=r"data\.y"):
        registry.decode("PointMarked", 2, {"x": 1})


def test_a_newer_version_registered_later_takes_over_decoding() -> None:
    registry = EventRegistry([PointMarkedV1])
    assert registry.decode("PointMarked", 1, {"x": 3}) == PointMarkedV1(x=3)
    registry.add_catalogue("sample", EventCatalogue([PointMarked], {("PointMarked", 1): _add_y}))
    assert registry.decode("PointMarked", 1, {"x": 3}) == PointMarked(x=3, y=0)


def test_the_latest_version_decodes_as_itself() -> None:
    assert make_registry().decode("PointMarked", 2, {"x": 1, "y": 2}) == PointMarked(x=1, y=2)


def test_an_unknown_type_or_version_is_refused() -> None:
    registry = make_registry()
    with pytest.raises(UnknownEventTypeError):
        registry.decode("PointErased", 1, {})
    with pytest.raises(UnknownEventTypeError):
        registry.decode("PointMarked", 9, {"x": 1})


def test_a_payload_failing_its_schema_names_the_field() -> None:
    with pytest.raises(InvalidEventError) as info:
        make_registry().decode("PointMarked", 2, {"x": 1, "y": "north"})
    assert info.value.field == "data.y"


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(InvalidEventError):
        make_registry().decode("PointMarked", 2, {"x": 1, "y": 2, "z": 3})


def test_two_classes_cannot_claim_one_name_and_version() -> None:
    class Impostor(DomainEvent):
        event_type = "PointMarked"
        event_version = 2

    registry = make_registry()
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(Impostor)


def test_events_are_immutable() -> None:
    event = PointMarked(x=1, y=2)
    with pytest.raises(ValueError, match="frozen"):
        event.x = 5  # type: ignore[misc]
