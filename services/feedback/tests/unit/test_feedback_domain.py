"""The suggestion's rules as pure functions: transitions, who may act, deadlines."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from eventspine.errors import DomainError, NotPermittedError, StateConflictError
from feedback import domain
from feedback import events as ev
from feedback.domain import MemberInfo, Routing, Suggestion
from feedback.settings import FeedbackSettings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = FeedbackSettings(_env_file=None).deadline_policy()
LEADER = Routing(uuid.uuid4(), "leader", "upper_contact")


def person(tier: str = "committee", status: str = "active") -> MemberInfo:
    return MemberInfo(uuid.uuid4(), tier, status, None)


def held_by(holder: MemberInfo, status: domain.Status = "held") -> Suggestion:
    return Suggestion(
        suggestion_id=uuid.uuid4(),
        raised_by=uuid.uuid4(),
        on_behalf_of=None,
        status=status,
        holder_id=holder.member_id,
        holder_tier="committee",
        level=0,
        arrived_at=T0,
    )


def test_only_the_holder_acknowledges() -> None:
    holder = person()
    with pytest.raises(NotPermittedError, match="you do not hold"):
        domain.decide_acknowledge(held_by(holder), person())
    [event] = domain.decide_acknowledge(held_by(holder), holder)
    assert isinstance(event, ev.SuggestionAcknowledged)


def test_an_invalid_transition_names_the_current_state() -> None:
    holder = person()
    with pytest.raises(StateConflictError, match="that is closed"):
        domain.decide_answer(held_by(holder, "closed"), holder, "v1.x")
    with pytest.raises(StateConflictError, match="that is held"):
        domain.decide_answer(held_by(holder), holder, "v1.x")


def test_the_acknowledge_deadline_escalates_once_it_passed() -> None:
    state = held_by(person())
    assert domain.overdue(state, T0 + timedelta(days=2), POLICY, False) is None
    assert domain.overdue(state, T0 + timedelta(days=3), POLICY, False) == (
        "deadline",
        "acknowledge",
    )
    [event] = domain.decide_automatic_escalation(
        state, T0 + timedelta(days=3), POLICY, False, LEADER
    )
    assert isinstance(event, ev.SuggestionEscalated)
    assert (event.level, event.reason, event.missed) == (0, "deadline", "acknowledge")
    after = domain.evolve(state, event, T0 + timedelta(days=3))
    assert after is not None
    assert (after.level, after.holder_id, after.status) == (1, LEADER.holder_id, "held")
    assert domain.overdue(after, T0 + timedelta(days=3), POLICY, False) is None


def test_the_answer_deadline_runs_from_arrival_once_acknowledged() -> None:
    state = held_by(person(), "acknowledged")
    assert domain.overdue(state, T0 + timedelta(days=9), POLICY, False) is None
    assert domain.overdue(state, T0 + timedelta(days=10), POLICY, False) == ("deadline", "answer")


def test_a_departed_holder_escalates_at_once_and_an_answered_one_never() -> None:
    assert domain.overdue(held_by(person()), T0, POLICY, True) == ("holder_departed", None)
    assert (
        domain.overdue(held_by(person(), "answered"), T0 + timedelta(days=99), POLICY, False)
        is None
    )


def test_only_the_top_of_the_chain_assigns_a_known_department() -> None:
    holder = person()
    state = held_by(holder, "acknowledged")
    departments = {"training": "宣教部"}
    with pytest.raises(StateConflictError, match="top of the chain"):
        domain.decide_assign(state, holder, "training", departments)
    with pytest.raises(DomainError, match="unknown department"):
        domain.decide_assign(state, holder, "astrology", departments)
    at_top = Suggestion(**{**state.__dict__, "holder_id": None, "holder_tier": None})
    [event] = domain.decide_assign(at_top, person("leader"), "training", departments)
    assert isinstance(event, ev.SuggestionAssigned)
    with pytest.raises(NotPermittedError):
        domain.decide_assign(at_top, person("committee"), "training", departments)


def test_a_representative_raises_only_for_their_own_workers() -> None:
    rep = person("representative")
    mine = MemberInfo(uuid.uuid4(), "worker", "active", rep.member_id)
    theirs = MemberInfo(uuid.uuid4(), "worker", "active", uuid.uuid4())
    assert domain.check_raiser(rep, mine, mine.member_id) == mine.member_id
    with pytest.raises(NotPermittedError, match="not yours"):
        domain.check_raiser(rep, theirs, theirs.member_id)
    with pytest.raises(NotPermittedError):
        domain.check_raiser(person(status="departed"), None, None)


def test_the_raiser_closes_or_reopens_an_answer() -> None:
    state = held_by(person(), "answered")
    with pytest.raises(NotPermittedError):
        domain.decide_close(state, uuid.uuid4())
    [reopened] = domain.decide_reopen(state, state.raised_by, "v1.x")
    again = domain.evolve(state, reopened, T0 + timedelta(days=1))
    assert again is not None
    assert (again.status, again.holder_id, again.arrived_at) == (
        "held",
        state.holder_id,
        T0 + timedelta(days=1),
    )


def test_deadline_settings_refuse_unknown_levels() -> None:
    with pytest.raises(ValueError, match="unknown levels"):
        FeedbackSettings(deadlines={"worker": {"acknowledge_days": 1, "answer_days": 2}})
