"""Linking, unlinking and relinking as commands: the date, then the rule of the link."""

from __future__ import annotations

import pytest

from eventspine.errors import DomainError, NotFoundError, StateConflictError
from roster import commands as cmd
from roster import events as ev
from roster.domain import (
    SpanPolicy,
    decide_change_span_policy,
    decide_link_member,
    decide_relink_member,
    decide_unlink_member,
)
from roster_states import TODAY, TOMORROW, linked, member


def test_a_link_dated_tomorrow_is_refused_before_its_members_are_looked_at() -> None:
    command = cmd.LinkMember(
        upper_member_id=member().member_id,
        lower_member_id=member().member_id,
        assigned_on=TOMORROW,
    )
    with pytest.raises(DomainError, match="is in the future") as refused:
        decide_link_member(None, None, SpanPolicy(), command, TODAY)
    assert (refused.value.field, refused.value.status) == ("assigned_on", 409)


def test_a_link_without_a_date_starts_today() -> None:
    rep, worker = member("representative"), member("worker")
    command = cmd.LinkMember(upper_member_id=rep.member_id, lower_member_id=worker.member_id)
    assigned, added = decide_link_member(worker, rep, SpanPolicy(), command, TODAY)
    assert isinstance(assigned, ev.MemberAssigned)
    assert assigned.assigned_on == TODAY
    assert isinstance(added, ev.LowerMemberAdded)
    assert added.member_id == rep.member_id


def test_unlinking_a_member_who_is_not_linked_is_refused() -> None:
    worker = member()
    command = cmd.UnlinkMember(lower_member_id=worker.member_id)
    with pytest.raises(StateConflictError, match="the member is not linked"):
        decide_unlink_member(worker, None, command, TODAY, {})


def test_unlinking_from_an_upper_member_the_roster_does_not_know_is_not_found() -> None:
    worker = member(upper=member("representative"))
    command = cmd.UnlinkMember(lower_member_id=worker.member_id)
    with pytest.raises(NotFoundError, match="the upper member is unknown"):
        decide_unlink_member(worker, None, command, TODAY, {})


def test_unlinking_ends_both_sides_of_the_link() -> None:
    rep, worker = linked(member("representative"), member("worker"))
    command = cmd.UnlinkMember(lower_member_id=worker.member_id, unassigned_on=TODAY)
    unassigned, removed = decide_unlink_member(worker, rep, command, TODAY, {})
    assert isinstance(unassigned, ev.MemberUnassigned)
    assert (unassigned.upper_member_id, unassigned.reason) == (rep.member_id, "unlinked")
    assert isinstance(removed, ev.LowerMemberRemoved)
    assert (removed.member_id, removed.span) == (rep.member_id, 0)


def test_relinking_a_member_who_is_not_linked_says_to_link_instead() -> None:
    rep, worker = member("representative"), member("worker")
    command = cmd.RelinkMember(lower_member_id=worker.member_id, upper_member_id=rep.member_id)
    with pytest.raises(StateConflictError, match="link instead"):
        decide_relink_member(worker, rep, None, SpanPolicy(), command, TODAY, {})


def test_relinking_moves_the_member_from_the_old_upper_member_to_the_new_one() -> None:
    old, worker = linked(member("representative"), member("worker"))
    new = member("representative")
    command = cmd.RelinkMember(lower_member_id=worker.member_id, upper_member_id=new.member_id)
    events = decide_relink_member(worker, new, old, SpanPolicy(), command, TODAY, {})
    assert [(type(e).__name__, e.model_dump()["member_id"]) for e in events] == [
        ("MemberUnassigned", worker.member_id),
        ("MemberAssigned", worker.member_id),
        ("LowerMemberAdded", new.member_id),
        ("LowerMemberRemoved", old.member_id),
    ]


def test_a_span_policy_change_records_the_new_targets_and_the_reason() -> None:
    command = cmd.ChangeSpanPolicy(leader=6, committee=5, representative=12, reason="2026 年会")
    [changed] = decide_change_span_policy(command)
    assert isinstance(changed, ev.SpanPolicyChanged)
    assert (changed.leader, changed.representative, changed.reason) == (6, 12, "2026 年会")
