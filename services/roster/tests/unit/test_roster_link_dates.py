"""When a link may end: never before it started, nor on or before a contact logged on it (the
end day belongs to the next link, so a contact on it would count on no link)."""

from __future__ import annotations

from datetime import date

import pytest

from roster import commands as cmd
from roster import events as ev
from roster.domain import (
    LinkChangeBeforeContactError,
    LinkChangeBeforeStartError,
    SpanPolicy,
    decide_change_tier,
    decide_depart_member,
    decide_forget_member,
    decide_relink_member,
    decide_unlink_member,
    evolve_member,
)
from roster_states import TODAY, linked, member

STARTED = date(2026, 3, 1)
CONTACT = date(2026, 5, 2)


def test_an_unlink_dated_before_the_link_started_is_refused_naming_the_start() -> None:
    rep, worker = linked(member("representative"), member("worker"), STARTED)
    command = cmd.UnlinkMember(lower_member_id=worker.member_id, unassigned_on=date(2026, 2, 28))
    with pytest.raises(LinkChangeBeforeStartError) as refused:
        decide_unlink_member(worker, rep, command, TODAY, {})
    error = refused.value
    assert (error.status, error.code, error.field) == (
        409,
        "link_change_before_start",
        "unassigned_on",
    )
    assert "2026-02-28" in error.reason
    assert "the current link started on 2026-03-01" in error.reason


def test_an_unlink_dated_on_the_day_of_the_latest_contact_is_refused_naming_it() -> None:
    rep, worker = linked(member("representative"), member("worker"), STARTED)
    command = cmd.UnlinkMember(lower_member_id=worker.member_id, unassigned_on=CONTACT)
    latest = {worker.member_id: CONTACT}
    with pytest.raises(LinkChangeBeforeContactError) as refused:
        decide_unlink_member(worker, rep, command, TODAY, latest)
    error = refused.value
    assert (error.status, error.code, error.field) == (
        409,
        "link_change_before_contact",
        "unassigned_on",
    )
    assert "a contact on 2026-05-02 was logged on the current link" in error.reason


def test_an_unlink_dated_after_the_latest_contact_or_on_the_start_day_goes_through() -> None:
    rep, worker = linked(member("representative"), member("worker"), STARTED)
    after = cmd.UnlinkMember(lower_member_id=worker.member_id, unassigned_on=date(2026, 5, 3))
    unassigned, _ = decide_unlink_member(worker, rep, after, TODAY, {worker.member_id: CONTACT})
    assert isinstance(unassigned, ev.MemberUnassigned)
    assert unassigned.unassigned_on == date(2026, 5, 3)
    on_start = cmd.UnlinkMember(lower_member_id=worker.member_id, unassigned_on=STARTED)
    assert decide_unlink_member(worker, rep, on_start, TODAY, {})


def test_a_contact_on_another_link_does_not_hold_up_an_unlink() -> None:
    rep, worker = linked(member("representative"), member("worker"), STARTED)
    command = cmd.UnlinkMember(lower_member_id=worker.member_id, unassigned_on=date(2026, 4, 1))
    assert decide_unlink_member(worker, rep, command, TODAY, {member().member_id: CONTACT})


def test_a_relink_dated_before_the_link_started_is_refused() -> None:
    old, worker = linked(member("representative"), member("worker"), STARTED)
    new = member("representative")
    command = cmd.RelinkMember(
        lower_member_id=worker.member_id,
        upper_member_id=new.member_id,
        assigned_on=date(2026, 2, 1),
    )
    with pytest.raises(LinkChangeBeforeStartError, match="started on 2026-03-01") as refused:
        decide_relink_member(worker, new, old, SpanPolicy(), command, TODAY, {})
    assert refused.value.field == "assigned_on"


def test_a_relink_dated_the_day_before_a_logged_contact_is_refused_naming_the_contact() -> None:
    old, worker = linked(member("representative"), member("worker"), STARTED)
    new = member("representative")
    command = cmd.RelinkMember(
        lower_member_id=worker.member_id,
        upper_member_id=new.member_id,
        assigned_on=date(2026, 5, 1),
    )
    latest = {worker.member_id: CONTACT}
    with pytest.raises(LinkChangeBeforeContactError, match="a contact on 2026-05-02") as refused:
        decide_relink_member(worker, new, old, SpanPolicy(), command, TODAY, latest)
    assert (refused.value.field, refused.value.code) == (
        "assigned_on",
        "link_change_before_contact",
    )


def test_a_relink_dated_after_the_latest_contact_moves_the_member() -> None:
    old, worker = linked(member("representative"), member("worker"), STARTED)
    new = member("representative")
    command = cmd.RelinkMember(
        lower_member_id=worker.member_id,
        upper_member_id=new.member_id,
        assigned_on=date(2026, 5, 3),
    )
    events = decide_relink_member(
        worker, new, old, SpanPolicy(), command, TODAY, {worker.member_id: CONTACT}
    )
    unassigned, assigned = events[0], events[1]
    assert isinstance(unassigned, ev.MemberUnassigned)
    assert isinstance(assigned, ev.MemberAssigned)
    assert unassigned.unassigned_on == assigned.assigned_on == date(2026, 5, 3)


def test_a_tier_change_dated_on_a_lower_members_contact_is_refused_naming_that_link() -> None:
    committee, rep = linked(member("committee"), member("representative"), STARTED)
    rep, worker = linked(rep, member("worker"), STARTED)
    command = cmd.ChangeTier(tier="committee", changed_on=CONTACT)
    latest = {worker.member_id: CONTACT}
    with pytest.raises(LinkChangeBeforeContactError) as refused:
        decide_change_tier(rep, committee, [worker], command, TODAY, latest)
    assert refused.value.field == "changed_on"
    assert f"the link with lower member {worker.member_id}" in refused.value.reason
    assert "2026-05-02" in refused.value.reason


def test_a_tier_change_dated_before_the_members_own_link_started_is_refused() -> None:
    committee, rep = linked(member("committee"), member("representative"), STARTED)
    command = cmd.ChangeTier(tier="committee", changed_on=date(2026, 1, 15))
    with pytest.raises(LinkChangeBeforeStartError, match="the current link started on 2026-03-01"):
        decide_change_tier(rep, committee, [], command, TODAY, {})


def test_a_departure_dated_before_a_contact_on_the_members_own_link_is_refused() -> None:
    rep, worker = linked(member("representative"), member("worker"), STARTED)
    command = cmd.DepartMember(departed_on=date(2026, 4, 30))
    with pytest.raises(LinkChangeBeforeContactError, match="a contact on 2026-05-02") as refused:
        decide_depart_member(worker, rep, [], command, TODAY, {worker.member_id: CONTACT})
    assert refused.value.field == "departed_on"


def test_a_departure_dated_before_a_lower_members_link_started_is_refused() -> None:
    rep, worker = linked(member("representative"), member("worker"), STARTED)
    command = cmd.DepartMember(departed_on=date(2026, 2, 1))
    with pytest.raises(LinkChangeBeforeStartError, match="started on 2026-03-01"):
        decide_depart_member(rep, None, [worker], command, TODAY, {})


def test_of_several_links_the_reason_names_the_latest_start_then_the_latest_contact() -> None:
    rep, early = linked(member("representative"), member("worker"), STARTED)
    rep, late = linked(rep, member("worker"), date(2026, 4, 1))
    lowers = [early, late]
    latest = {early.member_id: date(2026, 6, 1), late.member_id: CONTACT}
    with pytest.raises(LinkChangeBeforeStartError, match=f"{late.member_id} started on 2026-04-01"):
        decide_depart_member(
            rep, None, lowers, cmd.DepartMember(departed_on=STARTED), TODAY, latest
        )
    with pytest.raises(LinkChangeBeforeContactError, match="a contact on 2026-06-01") as refused:
        decide_depart_member(
            rep, None, lowers, cmd.DepartMember(departed_on=CONTACT), TODAY, latest
        )
    assert f"the link with lower member {early.member_id}" in refused.value.reason


def test_a_departure_after_every_links_latest_contact_goes_through() -> None:
    committee, rep = linked(member("committee"), member("representative"), STARTED)
    rep, worker = linked(rep, member("worker"), STARTED)
    latest = {rep.member_id: date(2026, 4, 1), worker.member_id: CONTACT}
    command = cmd.DepartMember(departed_on=date(2026, 5, 3))
    events = decide_depart_member(rep, committee, [worker], command, TODAY, latest)
    assert [type(e).__name__ for e in events].count("MemberUnassigned") == 2


def test_forgetting_a_member_is_never_held_up_by_the_dates_of_their_links() -> None:
    rep, worker = linked(member("representative"), member("worker"), TODAY)
    events = decide_forget_member(worker, rep, [], TODAY)
    assert "MemberForgotten" in [type(e).__name__ for e in events]


def test_the_member_state_knows_when_its_current_link_started() -> None:
    worker = member()
    upper, other = member("representative"), member("representative")
    state = evolve_member(
        worker,
        ev.MemberAssigned(
            member_id=worker.member_id,
            upper_member_id=upper.member_id,
            tier="worker",
            assigned_on=STARTED,
        ),
    )
    assert state is not None
    assert state.linked_on == STARTED
    state = evolve_member(
        state,
        ev.MemberUnassigned(
            member_id=worker.member_id,
            upper_member_id=upper.member_id,
            unassigned_on=CONTACT,
            reason="relinked",
        ),
    )
    assert state is not None
    assert state.linked_on is None
    state = evolve_member(
        state,
        ev.MemberAssigned(
            member_id=worker.member_id,
            upper_member_id=other.member_id,
            tier="worker",
            assigned_on=CONTACT,
        ),
    )
    assert state is not None
    assert (state.upper_member_id, state.linked_on) == (
        other.member_id,
        CONTACT,
    )
    departed = evolve_member(
        state, ev.MemberDeparted(member_id=worker.member_id, departed_on=TODAY)
    )
    assert departed is not None
    assert departed.linked_on is None
