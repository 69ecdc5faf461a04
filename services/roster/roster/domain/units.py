"""Union organisations: a city federation, its county unions, their enterprise unions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from eventspine.errors import DomainError, NotFoundError, StateConflictError
from eventspine.events import DomainEvent
from roster import codes
from roster import commands as cmd
from roster import events as ev
from roster.events import UnitKind

PARENT_KINDS: dict[str, tuple[str, ...]] = {
    "city_federation": (),
    "county_union": ("city_federation",),
    "enterprise_union": ("county_union", "city_federation"),
}


@dataclass(frozen=True)
class Unit:
    """A union organisation."""

    unit_id: UUID
    name: str
    kind: UnitKind
    parent_unit_id: UUID | None
    closed: bool = False
    code: str | None = None


def evolve_unit(state: Unit | None, event: DomainEvent) -> Unit | None:
    """Apply one unit event."""
    if isinstance(event, ev.UnitRegistered):
        return Unit(event.unit_id, event.name, event.kind, event.parent_unit_id, code=event.code)
    if state is None:
        return None
    if isinstance(event, ev.UnitRenamed):
        return replace(state, name=event.name)
    if isinstance(event, ev.UnitClosed):
        return replace(state, closed=True)
    return state


def require_unit(unit: Unit | None, field_name: str, *, open_: bool = True) -> Unit:
    """The unit, or a 404/409 naming ``field_name``."""
    if unit is None:
        raise NotFoundError(field_name, "no such union organisation", code="unit_not_found")
    if open_ and unit.closed:
        raise StateConflictError(
            field_name,
            f"the union organisation {unit.name!r} is closed",
            code="unit_closed",
            name=unit.name,
        )
    return unit


def decide_register_unit(
    existing: Unit | None, parent: Unit | None, command: cmd.RegisterUnit
) -> list[DomainEvent]:
    """Register a unit with a new id under an open parent of the right kind (a city
    federation under none)."""
    if existing is not None:
        if command.code is not None and command.unit_id == codes.unit_id(command.code):
            raise StateConflictError(
                "code", "a union organisation has this code already", code="unit_code_taken"
            )
        raise StateConflictError(
            "unit_id", "a union organisation with this id exists", code="unit_exists"
        )
    if command.code is not None and command.unit_id != codes.unit_id(command.code):
        raise StateConflictError(
            "code",
            "a unit with a code has the id the code gives: leave out unit_id",
            code="unit_code_id_mismatch",
        )
    event = ev.UnitRegistered(
        unit_id=command.unit_id,
        name=command.name,
        kind=command.kind,
        parent_unit_id=command.parent_unit_id,
        code=command.code,
    )
    allowed = PARENT_KINDS[command.kind]
    if not allowed:
        if command.parent_unit_id is not None:
            raise DomainError(
                "parent_unit_id",
                "a city federation has no parent organisation",
                code="parent_not_allowed",
            )
        return [event]
    if command.parent_unit_id is None:
        raise DomainError(
            "parent_unit_id",
            f"a {command.kind} needs a parent organisation",
            code="parent_required",
            kind=command.kind,
        )
    parent = require_unit(parent, "parent_unit_id")
    if parent.kind not in allowed:
        raise StateConflictError(
            "parent_unit_id",
            f"a {command.kind} belongs under a {' or '.join(allowed)}",
            code="parent_kind_wrong",
            kind=command.kind,
            allowed=list(allowed),
        )
    return [event]


def decide_rename_unit(unit: Unit | None, command: cmd.RenameUnit) -> list[DomainEvent]:
    """Rename an open unit to a name it does not already have."""
    unit = require_unit(unit, "unit_id")
    if unit.name == command.name:
        raise StateConflictError(
            "name", "the union organisation already has this name", code="unit_name_unchanged"
        )
    return [ev.UnitRenamed(unit_id=unit.unit_id, name=command.name)]


def decide_close_unit(unit: Unit | None, command: cmd.CloseUnit) -> list[DomainEvent]:
    """Close an open unit."""
    unit = require_unit(unit, "unit_id")
    return [ev.UnitClosed(unit_id=unit.unit_id, reason=command.reason)]
