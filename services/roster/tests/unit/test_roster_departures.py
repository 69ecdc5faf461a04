"""Tier changes, departures and forgetting, as pure functions: each ends every link."""

from __future__ import annotations

from dataclasses import replace

import pytest

from eventspine.errors import DomainError, NotFoundError, StateConflictError
from roster import commands as cmd
from roster import events as ev
from roster.domain import decide_change_tier, decide_depart_member, decide_forget_member
from roster_states import TODAY, TOMORROW, linked, member


def test_a_tier_change_to_the_same_tier_is_refused() -> None:
    rep = member("representative")
    with pytest.raises(StateConflictError, match="already at tier representative") as refused:
        decide_change_tier(rep, None, [], cmd.ChangeTier(tier="representative"), TODAY, {})
    assert refused.value.field == "tier"


def test_a_tier_change_ends_the_members_links_and_leaves_their_lower_members_unlinked() -> None:
    committee, rep = linked(member("committee"), member("representative"))
    rep, worker = linked(rep, member("worker"))
    command = cmd.ChangeTier(tier="committee")
    events = decide_change_tier(rep, committee, [worker], command, TODAY, {})
    assert [(type(e).__name__, e.model_dump()["member_id"]) for e in events] == [
        ("MemberUnassigned", rep.member_id),
        ("MemberTierChanged", rep.member_id),
        ("LowerMemberRemoved", committee.member_id),
        ("MemberUnassigned", worker.member_id),
    ]
    unassigned = events[3]
    assert isinstance(unassigned, ev.MemberUnassigned)
    assert (unassigned.reason, unassigned.unassigned_on) == ("tier_changed", TODAY)


def test_a_tier_change_dated_tomorrow_is_refused() -> None:
    command = cmd.ChangeTier(tier="committee", changed_on=TOMORROW)
    with pytest.raises(DomainError, match="is in the future"):
        decide_change_tier(member("representative"), None, [], command, TODAY, {})


def test_a_departure_frees_the_number_and_tells_the_lower_members_their_upper_left() -> None:
    rep, worker = linked(member("representative"), member("worker"))
    command = cmd.DepartMember(reason="退休")
    events = decide_depart_member(rep, None, [worker], command, TODAY, {})
    departed, unassigned, released = events
    assert isinstance(departed, ev.MemberDeparted)
    assert (departed.departed_on, departed.reason) == (TODAY, "退休")
    assert isinstance(unassigned, ev.MemberUnassigned)
    assert (unassigned.member_id, unassigned.reason) == (worker.member_id, "upper_departed")
    assert isinstance(released, ev.ExternalNumberReleased)
    assert (released.unit_id, released.member_id) == (rep.unit_id, rep.member_id)


def test_a_member_who_departed_cannot_depart_again() -> None:
    with pytest.raises(StateConflictError, match="the member has departed"):
        decide_depart_member(
            replace(member(), status="departed"), None, [], cmd.DepartMember(), TODAY, {}
        )


def test_forgetting_an_active_member_makes_them_depart_today_first() -> None:
    rep, worker = linked(member("representative"), member("worker"))
    events = decide_forget_member(worker, rep, [], TODAY)
    assert [type(e).__name__ for e in events] == [
        "MemberUnassigned",
        "MemberDeparted",
        "MemberForgotten",
        "LowerMemberRemoved",
        "ExternalNumberReleased",
    ]
    departed = events[1]
    assert isinstance(departed, ev.MemberDeparted)
    assert (departed.departed_on, departed.reason) == (TODAY, "forgotten")


def test_forgetting_a_departed_member_only_forgets_them() -> None:
    departed = replace(member(), status="departed")
    [forgotten] = decide_forget_member(departed, None, [], TODAY)
    assert isinstance(forgotten, ev.MemberForgotten)
    assert forgotten.member_id == departed.member_id


def test_a_member_is_forgotten_once_and_an_unknown_one_not_at_all() -> None:
    with pytest.raises(StateConflictError, match="already forgotten"):
        decide_forget_member(replace(member(), status="forgotten"), None, [], TODAY)
    with pytest.raises(NotFoundError, match="no such member"):
        decide_forget_member(None, None, [], TODAY)
