"""The suggestion's rules as pure functions: transitions, who may act, deadlines, sealing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from eventspine.errors import DomainError, NotFoundError, NotPermittedError, StateConflictError
from eventspine.events import DomainEvent
from eventspine.store.base import CommandContext
from feedback import commands as cmd
from feedback import domain
from feedback import events as ev
from feedback.domain import Decision, Unsealed
from feedback.settings import FeedbackSettings
from feedback.state import MemberInfo, Routing, Status, Suggestion, evolve
from servicekit.commands import stable_ids

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = FeedbackSettings(_env_file=None).deadline_policy()
LEADER = Routing(uuid.uuid4(), "leader", "upper_contact")
TOP = Routing(None, None, "top_of_chain")
SEALED = "v1.c2VhbGVk"
RAISE = cmd.RaiseSuggestion(text="食堂饭菜太贵", category="wages_and_welfare", channel="visit")


def person(tier: str = "committee", status: str = "active") -> MemberInfo:
    return MemberInfo(uuid.uuid4(), tier, status, None)


def held_by(holder: MemberInfo, status: Status = "held") -> Suggestion:
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


def at_the_top(state: Suggestion) -> Suggestion:
    return Suggestion(**{**state.__dict__, "holder_id": None, "holder_tier": None})


def unsealed(decision: Decision) -> Unsealed:
    """The one event of a decision, still waiting for its text to be sealed."""
    [item] = decision
    assert isinstance(item, Unsealed)
    return item


def ready(decision: Decision) -> DomainEvent:
    """The one event of a decision that carries no personal text."""
    [item] = decision
    assert isinstance(item, DomainEvent)
    return item


def test_a_raise_is_held_where_the_chain_leads_with_its_text_left_for_the_handler_to_seal() -> None:
    rep = person("representative")
    suggestion_id = uuid.uuid4()
    pending = unsealed(domain.decide_raise(RAISE, suggestion_id, None, rep, None, LEADER))
    assert (pending.field, pending.clear) == ("text", "食堂饭菜太贵")
    event = pending.build(SEALED)
    assert isinstance(event, ev.SuggestionRaised)
    assert (event.suggestion_id, event.raised_by, event.on_behalf_of) == (
        suggestion_id,
        rep.member_id,
        None,
    )
    assert (event.text, event.holder_id, event.holder_tier, event.route) == (
        SEALED,
        LEADER.holder_id,
        "leader",
        "upper_contact",
    )


def test_a_representative_raises_only_for_their_own_active_workers() -> None:
    rep = person("representative")
    mine = MemberInfo(uuid.uuid4(), "worker", "active", rep.member_id)
    theirs = MemberInfo(uuid.uuid4(), "worker", "active", uuid.uuid4())
    gone = MemberInfo(uuid.uuid4(), "worker", "departed", rep.member_id)
    for_mine = RAISE.model_copy(update={"on_behalf_of": mine.member_id})
    event = unsealed(domain.decide_raise(for_mine, uuid.uuid4(), None, rep, mine, LEADER)).build(
        SEALED
    )
    assert isinstance(event, ev.SuggestionRaised)
    assert (event.raised_by, event.on_behalf_of) == (rep.member_id, mine.member_id)
    for worker in (theirs, gone):
        command = RAISE.model_copy(update={"on_behalf_of": worker.member_id})
        with pytest.raises(NotPermittedError, match="not yours"):
            domain.decide_raise(command, uuid.uuid4(), None, rep, worker, LEADER)


def test_raising_for_an_unknown_worker_is_not_found() -> None:
    command = RAISE.model_copy(update={"on_behalf_of": uuid.uuid4()})
    with pytest.raises(NotFoundError, match="no such member"):
        domain.decide_raise(command, uuid.uuid4(), None, person("representative"), None, LEADER)


def test_a_departed_member_raises_nothing() -> None:
    with pytest.raises(NotPermittedError, match="not an active member"):
        domain.decide_raise(RAISE, uuid.uuid4(), None, person(status="departed"), None, LEADER)


def test_a_suggestion_id_is_raised_only_once() -> None:
    existing = held_by(person())
    with pytest.raises(StateConflictError, match="exists"):
        domain.decide_raise(RAISE, existing.suggestion_id, existing, person(), None, LEADER)


def test_a_raise_without_an_idempotency_key_gets_a_fresh_id_and_with_one_the_keys_id() -> None:
    fields = ("suggestion_id",)
    anonymous = CommandContext(actor="member:x")
    first = stable_ids(RAISE, anonymous, fields).suggestion_id
    second = stable_ids(RAISE, anonymous, fields).suggestion_id
    assert first is not None
    assert first != second
    key = uuid.uuid4()
    keyed = CommandContext(actor="member:x", command_id=key)
    assert stable_ids(RAISE, keyed, fields).suggestion_id == uuid.uuid5(key, "suggestion_id")
    chosen = RAISE.model_copy(update={"suggestion_id": first})
    assert stable_ids(chosen, keyed, fields).suggestion_id == first


def test_only_the_holder_acknowledges_what_they_hold() -> None:
    holder = person()
    with pytest.raises(NotPermittedError, match="you do not hold"):
        domain.decide_acknowledge(held_by(holder), person())
    event = ready(domain.decide_acknowledge(held_by(holder), holder))
    assert isinstance(event, ev.SuggestionAcknowledged)
    assert (event.acknowledged_by, event.level) == (holder.member_id, 0)
    with pytest.raises(StateConflictError, match="that is acknowledged"):
        domain.decide_acknowledge(held_by(holder, "acknowledged"), holder)


def test_an_invalid_transition_names_the_current_state() -> None:
    holder = person()
    answer = cmd.AnswerSuggestion(answer="已与企业协商")
    with pytest.raises(StateConflictError, match="that is closed"):
        domain.decide_answer(held_by(holder, "closed"), holder, answer)
    with pytest.raises(StateConflictError, match="that is held; it must be acknowledged"):
        domain.decide_answer(held_by(holder), holder, answer)


def test_an_answer_is_left_in_clear_for_the_handler_to_seal() -> None:
    holder = person()
    state = held_by(holder, "acknowledged")
    pending = unsealed(
        domain.decide_answer(state, holder, cmd.AnswerSuggestion(answer="已与企业协商"))
    )
    assert (pending.field, pending.clear) == ("answer", "已与企业协商")
    event = pending.build(SEALED)
    assert isinstance(event, ev.SuggestionAnswered)
    assert (event.answered_by, event.answer) == (holder.member_id, SEALED)
    after = evolve(state, event, T0)
    assert after is not None
    assert after.status == "answered"


def test_the_holder_escalates_by_hand_with_a_note_to_where_the_chain_leads() -> None:
    holder = person()
    state = held_by(holder)
    command = cmd.EscalateSuggestion(reason="需要上级协调")
    pending = unsealed(domain.decide_escalate(state, holder, command, LEADER))
    assert (pending.field, pending.clear) == ("note", "需要上级协调")
    event = pending.build(SEALED)
    assert isinstance(event, ev.SuggestionEscalated)
    assert (event.reason, event.escalated_by, event.note, event.missed) == (
        "by_hand",
        holder.member_id,
        SEALED,
        None,
    )
    assert (event.from_holder_id, event.to_holder_id) == (holder.member_id, LEADER.holder_id)
    with pytest.raises(NotPermittedError):
        domain.decide_escalate(state, person(), command, LEADER)


def test_nothing_is_escalated_past_the_top_of_the_chain() -> None:
    top = at_the_top(held_by(person()))
    command = cmd.EscalateSuggestion(reason="需要上级协调")
    with pytest.raises(StateConflictError, match="already at the top"):
        domain.decide_escalate(top, person("leader"), command, TOP)
    late = T0 + timedelta(days=99)
    assert domain.decide_automatic_escalation(top, late, POLICY, False, TOP) == []


def test_the_acknowledge_deadline_escalates_once_it_passed() -> None:
    state = held_by(person())
    assert domain.overdue(state, T0 + timedelta(days=2), POLICY, False) is None
    assert (
        domain.decide_automatic_escalation(state, T0 + timedelta(days=2), POLICY, False, LEADER)
        == []
    )
    event = ready(
        domain.decide_automatic_escalation(state, T0 + timedelta(days=3), POLICY, False, LEADER)
    )
    assert isinstance(event, ev.SuggestionEscalated)
    assert (event.level, event.reason, event.missed, event.escalated_by) == (
        0,
        "deadline",
        "acknowledge",
        None,
    )
    after = evolve(state, event, T0 + timedelta(days=3))
    assert after is not None
    assert (after.level, after.holder_id, after.status) == (1, LEADER.holder_id, "held")
    # A second look at the same moment (the loser of a scheduler race) decides nothing.
    assert (
        domain.decide_automatic_escalation(after, T0 + timedelta(days=3), POLICY, False, LEADER)
        == []
    )


def test_the_answer_deadline_runs_from_arrival_once_acknowledged() -> None:
    state = held_by(person(), "acknowledged")
    assert domain.overdue(state, T0 + timedelta(days=9), POLICY, False) is None
    assert domain.overdue(state, T0 + timedelta(days=10), POLICY, False) == ("deadline", "answer")


def test_a_departed_holder_escalates_at_once_and_an_answered_one_never() -> None:
    event = ready(domain.decide_automatic_escalation(held_by(person()), T0, POLICY, True, LEADER))
    assert isinstance(event, ev.SuggestionEscalated)
    assert (event.reason, event.missed) == ("holder_departed", None)
    answered = held_by(person(), "answered")
    assert domain.decide_automatic_escalation(answered, T0, POLICY, True, LEADER) == []
    assert domain.overdue(answered, T0 + timedelta(days=99), POLICY, False) is None


def test_a_missing_suggestion_escalates_nothing_and_is_not_found_for_a_member() -> None:
    assert domain.decide_automatic_escalation(None, T0, POLICY, True, LEADER) == []
    with pytest.raises(NotFoundError, match="no such suggestion"):
        domain.require(None)


def test_only_the_top_of_the_chain_assigns_a_known_department() -> None:
    holder = person()
    state = held_by(holder, "acknowledged")
    departments = {"training": "宣教部"}
    training = cmd.AssignSuggestion(department="training")
    with pytest.raises(StateConflictError, match="top of the chain"):
        domain.decide_assign(state, holder, training, departments)
    with pytest.raises(DomainError, match="unknown department"):
        domain.decide_assign(state, holder, cmd.AssignSuggestion(department="astrology"), {})
    top = at_the_top(state)
    event = ready(domain.decide_assign(top, person("leader"), training, departments))
    assert isinstance(event, ev.SuggestionAssigned)
    assert event.department == "training"
    with pytest.raises(NotPermittedError):
        domain.decide_assign(top, person("committee"), training, departments)


def test_an_outcome_is_recorded_for_the_assigned_department_and_left_to_seal() -> None:
    leader = person("leader")
    assigned = Suggestion(
        **{**at_the_top(held_by(leader)).__dict__, "status": "assigned", "department": "training"}
    )
    command = cmd.ResolveSuggestion(outcome="举办培训班")
    pending = unsealed(domain.decide_resolve(assigned, leader, command))
    assert (pending.field, pending.clear) == ("outcome", "举办培训班")
    event = pending.build(SEALED)
    assert isinstance(event, ev.SuggestionResolved)
    assert (event.department, event.outcome, event.resolved_by) == (
        "training",
        SEALED,
        leader.member_id,
    )
    with pytest.raises(StateConflictError, match="that is acknowledged"):
        domain.decide_resolve(at_the_top(held_by(leader, "acknowledged")), leader, command)


def test_the_raiser_closes_or_reopens_an_answer() -> None:
    state = held_by(person(), "answered")
    raiser = state.raised_by
    assert raiser is not None
    with pytest.raises(NotPermittedError, match="only the member who raised"):
        domain.decide_close(state, uuid.uuid4())
    closed = ready(domain.decide_close(state, raiser))
    assert isinstance(closed, ev.SuggestionClosed)
    pending = unsealed(
        domain.decide_reopen(state, raiser, cmd.ReopenSuggestion(reason="没有具体安排"))
    )
    assert (pending.field, pending.clear) == ("reason", "没有具体安排")
    again = evolve(state, pending.build(SEALED), T0 + timedelta(days=1))
    assert again is not None
    assert (again.status, again.holder_id, again.arrived_at) == (
        "held",
        state.holder_id,
        T0 + timedelta(days=1),
    )


def test_the_raiser_settles_only_an_answered_or_resolved_suggestion() -> None:
    state = held_by(person())
    raiser = state.raised_by
    assert raiser is not None
    with pytest.raises(
        StateConflictError, match="cannot confirm or reopen a suggestion that is held"
    ):
        domain.decide_close(state, raiser)
    with pytest.raises(StateConflictError, match="that is held"):
        domain.decide_reopen(state, raiser, cmd.ReopenSuggestion(reason="不满意"))


def test_deadline_settings_refuse_unknown_levels() -> None:
    with pytest.raises(ValueError, match="unknown levels"):
        FeedbackSettings(deadlines={"worker": {"acknowledge_days": 1, "answer_days": 2}})
