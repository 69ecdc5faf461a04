"""The rules of union organisations, as pure functions."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from eventspine.errors import DomainError, NotFoundError, StateConflictError
from roster import commands as cmd
from roster import events as ev
from roster.domain import decide_close_unit, decide_register_unit, decide_rename_unit
from roster_states import unit


def test_a_county_union_is_registered_under_a_city_federation() -> None:
    city = unit()
    command = cmd.RegisterUnit(name="盂县总工会", kind="county_union", parent_unit_id=city.unit_id)
    [event] = decide_register_unit(None, city, command)
    assert isinstance(event, ev.UnitRegistered)
    assert (event.unit_id, event.parent_unit_id) == (command.unit_id, city.unit_id)


def test_a_unit_id_that_exists_is_refused() -> None:
    city = unit()
    command = cmd.RegisterUnit(unit_id=city.unit_id, name="另一个", kind="city_federation")
    with pytest.raises(StateConflictError, match="with this id exists"):
        decide_register_unit(city, None, command)


def test_a_city_federation_has_no_parent_and_a_county_union_needs_one() -> None:
    city = unit()
    with pytest.raises(DomainError, match="has no parent"):
        decide_register_unit(
            None,
            city,
            cmd.RegisterUnit(name="市", kind="city_federation", parent_unit_id=city.unit_id),
        )
    with pytest.raises(DomainError, match="needs a parent"):
        decide_register_unit(None, None, cmd.RegisterUnit(name="县", kind="county_union"))


def test_a_unit_belongs_under_a_parent_of_the_kind_above_it() -> None:
    enterprise = unit("enterprise_union")
    command = cmd.RegisterUnit(
        name="车间工会", kind="enterprise_union", parent_unit_id=enterprise.unit_id
    )
    with pytest.raises(DomainError, match="belongs under a county_union or city_federation"):
        decide_register_unit(None, enterprise, command)


def test_a_unit_under_an_unknown_or_closed_parent_is_refused() -> None:
    command = cmd.RegisterUnit(name="县", kind="county_union", parent_unit_id=uuid.uuid4())
    with pytest.raises(NotFoundError, match="no such union organisation"):
        decide_register_unit(None, None, command)
    with pytest.raises(StateConflictError, match="is closed"):
        decide_register_unit(None, replace(unit(), closed=True), command)


def test_a_unit_cannot_be_renamed_to_the_name_it_already_has() -> None:
    city = unit(name="阳泉市总工会")
    with pytest.raises(StateConflictError, match="already has this name") as refused:
        decide_rename_unit(city, cmd.RenameUnit(name="阳泉市总工会"))
    assert refused.value.field == "name"
    [renamed] = decide_rename_unit(city, cmd.RenameUnit(name="阳泉市总工会（新）"))
    assert isinstance(renamed, ev.UnitRenamed)
    assert (renamed.unit_id, renamed.name) == (city.unit_id, "阳泉市总工会（新）")


def test_a_closed_unit_is_neither_renamed_nor_closed_again() -> None:
    closed = replace(unit(), closed=True)
    with pytest.raises(StateConflictError, match="is closed"):
        decide_rename_unit(closed, cmd.RenameUnit(name="新名字"))
    with pytest.raises(StateConflictError, match="is closed"):
        decide_close_unit(closed, cmd.CloseUnit())


def test_closing_an_unknown_unit_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        decide_close_unit(None, cmd.CloseUnit(reason="合并"))
