"""The roster's rules as pure functions: links, spans, tiers."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from eventspine.errors import DomainError, NotFoundError, StateConflictError
from roster import events as ev
from roster.domain import Member, SpanPolicy, decide_link, evolve_member

ON = date(2026, 3, 1)


def member(tier: ev.Tier, lowers: int = 0, upper: uuid.UUID | None = None) -> Member:
    return Member(
        member_id=uuid.uuid4(),
        unit_id=uuid.uuid4(),
        tier=tier,
        number_index="0" * 64,
        personal_data="v1.x",
        upper_member_id=upper,
        lower_member_ids=frozenset(uuid.uuid4() for _ in range(lowers)),
    )


def test_a_link_writes_both_sides_with_the_new_span() -> None:
    rep, worker = member("representative", lowers=3), member("worker")
    streams = decide_link(worker, rep, SpanPolicy(), ON, None)
    assigned, added = streams[worker.member_id][0], streams[rep.member_id][0]
    assert isinstance(assigned, ev.MemberAssigned)
    assert assigned.upper_member_id == rep.member_id
    assert isinstance(added, ev.LowerMemberAdded)
    assert (added.span, added.span_target) == (4, 10)


def test_a_full_span_needs_an_override_reason_which_the_event_records() -> None:
    committee, rep = member("committee", lowers=5), member("representative")
    with pytest.raises(StateConflictError, match=r"full \(5 of 5\)"):
        decide_link(rep, committee, SpanPolicy(), ON, None)
    streams = decide_link(rep, committee, SpanPolicy(), ON, "59 委员 / 10 领导")
    assigned = streams[rep.member_id][0]
    assert isinstance(assigned, ev.MemberAssigned)
    assert assigned.span_override_reason == "59 委员 / 10 领导"


def test_an_override_reason_within_the_span_is_not_recorded() -> None:
    streams = decide_link(member("worker"), member("representative"), SpanPolicy(), ON, "x")
    assert all(
        getattr(e, "span_override_reason", None) is None for es in streams.values() for e in es
    )


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("worker", "committee"),
        ("committee", "representative"),
        ("leader", "committee"),
        ("representative", "worker"),
    ],
)
def test_links_across_non_adjacent_tiers_are_refused(lower: ev.Tier, upper: ev.Tier) -> None:
    with pytest.raises(DomainError, match="is linked under"):
        decide_link(member(lower), member(upper), SpanPolicy(), ON, None)


def test_a_link_that_would_close_a_cycle_is_refused() -> None:
    rep = member("representative")
    worker = member("worker", upper=rep.member_id)
    with pytest.raises(DomainError):
        decide_link(rep, worker, SpanPolicy(), ON, None)  # the worker above its own upper


def test_self_links_unknown_and_departed_members_are_refused() -> None:
    rep = member("representative")
    with pytest.raises(DomainError, match="themself"):
        decide_link(rep, rep, SpanPolicy(), ON, None)
    with pytest.raises(NotFoundError):
        decide_link(None, rep, SpanPolicy(), ON, None)
    departed = evolve_member(
        member("worker"), ev.MemberDeparted(member_id=uuid.uuid4(), departed_on=ON)
    )
    with pytest.raises(StateConflictError, match="departed"):
        decide_link(departed, rep, SpanPolicy(), ON, None)


def test_a_tier_change_ends_every_link_in_the_state() -> None:
    rep = member("representative", lowers=4, upper=uuid.uuid4())
    changed = evolve_member(
        rep,
        ev.MemberTierChanged(
            member_id=rep.member_id, from_tier="representative", to_tier="committee", changed_on=ON
        ),
    )
    assert changed is not None
    assert (changed.tier, changed.upper_member_id, changed.lower_member_ids) == (
        "committee",
        None,
        frozenset(),
    )
