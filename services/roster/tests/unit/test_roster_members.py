"""The rules of members and their external numbers, as pure functions."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import pytest

from eventspine.errors import DomainError, NotFoundError, StateConflictError
from roster import commands as cmd
from roster import events as ev
from roster.domain import (
    NumberClaim,
    decide_change_details,
    decide_move_member,
    decide_register_member,
    effective_date,
)
from roster_states import TODAY, TOMORROW, member, unit

FREE = NumberClaim()
INDEX = "b" * 64


def registration(**fields: object) -> cmd.RegisterMember:
    return cmd.RegisterMember.model_validate(
        {
            "unit_id": uuid.uuid4(),
            "tier": "worker",
            "name": "张东峰",
            "phone": "13800000000",
            "external_number": "YJ-0042",
            **fields,
        }
    )


def test_a_date_left_out_is_today_and_today_is_not_in_the_future() -> None:
    assert effective_date(None, TODAY, "moved_on") == TODAY
    assert effective_date(TODAY, TODAY, "moved_on") == TODAY
    assert effective_date(date(2019, 3, 1), TODAY, "moved_on") == date(2019, 3, 1)


def test_a_date_after_today_is_refused_naming_its_field() -> None:
    with pytest.raises(DomainError, match="is in the future") as refused:
        effective_date(TOMORROW, TODAY, "registered_on")
    assert (refused.value.field, refused.value.status) == ("registered_on", 409)


def test_a_registration_seals_the_personal_data_into_its_events_only_when_asked() -> None:
    command = registration()
    decided = decide_register_member(unit(), None, FREE, command, INDEX, TODAY)
    assert decided.member_id == command.member_id
    assert decided.personal_data == {
        "name": "张东峰",
        "phone": "13800000000",
        "wechat_id": None,
        "external_number": "YJ-0042",
    }
    registered, claimed = decided.events("v1.sealed-text")
    assert isinstance(registered, ev.MemberRegistered)
    assert (registered.personal_data, registered.registered_on) == ("v1.sealed-text", TODAY)
    assert isinstance(claimed, ev.ExternalNumberClaimed)
    assert (claimed.member_id, claimed.number_index) == (command.member_id, INDEX)


def test_a_number_already_used_in_the_unit_is_refused() -> None:
    taken = NumberClaim(uuid.uuid4())
    with pytest.raises(StateConflictError, match="already used by a member") as refused:
        decide_register_member(unit(), None, taken, registration(), INDEX, TODAY)
    assert refused.value.field == "external_number"


def test_a_member_id_that_exists_is_refused() -> None:
    existing = member()
    command = registration(member_id=existing.member_id)
    with pytest.raises(StateConflictError, match="a member with this id exists"):
        decide_register_member(unit(), existing, FREE, command, INDEX, TODAY)


def test_a_registration_in_the_future_or_in_a_closed_or_unknown_unit_is_refused() -> None:
    with pytest.raises(DomainError, match="is in the future"):
        decide_register_member(
            unit(), None, FREE, registration(registered_on=TOMORROW), INDEX, TODAY
        )
    with pytest.raises(StateConflictError, match="is closed"):
        decide_register_member(
            replace(unit(), closed=True), None, FREE, registration(), INDEX, TODAY
        )
    with pytest.raises(NotFoundError, match="no such union organisation"):
        decide_register_member(None, None, FREE, registration(), INDEX, TODAY)


def test_new_details_keep_the_external_number() -> None:
    worker = member()
    current = {"name": "旧", "phone": None, "wechat_id": "old_id", "external_number": "YJ-1"}
    decided = decide_change_details(worker, current, cmd.ChangeDetails(name="新"))
    assert decided.personal_data == {
        "name": "新",
        "phone": None,
        "wechat_id": None,
        "external_number": "YJ-1",
    }
    [changed] = decided.events("v1.new")
    assert isinstance(changed, ev.MemberDetailsChanged)
    assert (changed.member_id, changed.personal_data) == (worker.member_id, "v1.new")


def test_details_of_a_member_whose_key_is_gone_cannot_change() -> None:
    with pytest.raises(StateConflictError, match="the member was forgotten"):
        decide_change_details(member(), None, cmd.ChangeDetails(name="新"))


def test_a_move_claims_the_number_in_the_new_unit_and_releases_the_old_one() -> None:
    worker, target = member(), unit("enterprise_union")
    command = cmd.MoveMember(unit_id=target.unit_id)
    moved, claimed, released = decide_move_member(
        worker, target, {"external_number": "YJ-1"}, FREE, INDEX, command, TODAY
    )
    assert isinstance(moved, ev.MemberMoved)
    assert (moved.from_unit_id, moved.to_unit_id, moved.moved_on) == (
        worker.unit_id,
        target.unit_id,
        TODAY,
    )
    assert isinstance(claimed, ev.ExternalNumberClaimed)
    assert (claimed.unit_id, claimed.number_index) == (target.unit_id, INDEX)
    assert isinstance(released, ev.ExternalNumberReleased)
    assert (released.unit_id, released.number_index) == (worker.unit_id, worker.number_index)


def test_a_move_to_the_members_own_unit_is_refused() -> None:
    here = unit()
    worker = member(unit_id=here.unit_id)
    with pytest.raises(StateConflictError, match="already in this organisation"):
        decide_move_member(
            worker, here, {}, FREE, INDEX, cmd.MoveMember(unit_id=here.unit_id), TODAY
        )


def test_a_move_where_the_number_is_taken_is_refused_on_the_unit() -> None:
    target = unit()
    command = cmd.MoveMember(unit_id=target.unit_id)
    with pytest.raises(StateConflictError, match="already used in that organisation") as refused:
        decide_move_member(member(), target, {}, NumberClaim(uuid.uuid4()), INDEX, command, TODAY)
    assert refused.value.field == "unit_id"


def test_a_departed_member_does_not_move() -> None:
    target = unit()
    departed = replace(member(), status="departed")
    with pytest.raises(StateConflictError, match="the member has departed"):
        decide_move_member(
            departed, target, {}, FREE, INDEX, cmd.MoveMember(unit_id=target.unit_id), TODAY
        )
