"""The rules of a suggestion: one pure decision per command, returning the events to append.

No I/O here. Each ``decide_*`` checks a command against the state (see :mod:`feedback.state`)
and returns a :data:`Decision`, or raises a ``DomainError`` naming the field and the reason.
"Now" comes in as a value. What workers said travels sealed, and sealing creates the
suggestion's key, so a decision never seals: an event carrying personal text comes back
:class:`Unsealed`, and the handler seals it only once the decision has been made, so a refused
command leaves no key behind.

Lifecycle: held -> acknowledged -> answered | escalated (held again, one level up) ->
at the top: assigned -> resolved; answered or resolved -> closed | reopened (held again).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from escalation import DeadlinePolicy
from eventspine.errors import (
    DomainError,
    NotFoundError,
    NotPermittedError,
    StateConflictError,
)
from eventspine.events import DomainEvent
from feedback import commands as cmd
from feedback import events as ev
from feedback.events import Deadline, EscalationReason
from feedback.state import MemberInfo, Routing, Status, Suggestion


@dataclass(frozen=True)
class Unsealed:
    """An event whose personal text is still clear: ``build`` makes the event from ``clear``
    once it is sealed under the suggestion's key (as ``{field: clear}``)."""

    field: str
    clear: str
    build: Callable[[str], DomainEvent]


Decision = list[DomainEvent | Unsealed]
"""What a command decided: the events to append, in order (empty: nothing to do)."""


def require(state: Suggestion | None) -> Suggestion:
    """The suggestion, or 404."""
    if state is None:
        raise NotFoundError("suggestion_id", "no such suggestion", code="suggestion_not_found")
    return state


def _status(state: Suggestion, allowed: tuple[Status, ...], doing: str) -> None:
    if state.status not in allowed:
        raise StateConflictError(
            "status",
            f"cannot {doing} a suggestion that is {state.status}; "
            f"it must be {' or '.join(allowed)}",
            code="wrong_status",
            status=state.status,
            allowed=list(allowed),
        )


def _holder(state: Suggestion, actor: MemberInfo) -> None:
    """Only the holder acts; at the top of the chain, any active leadership member."""
    if state.holder_id is None:
        if actor.active and actor.tier == "leader":
            return
        raise NotPermittedError(
            "actor",
            "the suggestion is with the federation leadership: a leadership member acts",
            code="leadership_acts",
        )
    if state.holder_id != actor.member_id:
        raise NotPermittedError("actor", "you do not hold this suggestion", code="not_holder")


def _by_the_raiser(state: Suggestion, actor_id: UUID) -> None:
    """The raiser confirms or rejects an answer or an outcome."""
    if state.raised_by != actor_id:
        raise NotPermittedError(
            "actor", "only the member who raised the suggestion may do this", code="raiser_only"
        )
    _status(state, ("answered", "resolved"), "confirm or reopen")


def _speaks_for(actor: MemberInfo, worker: MemberInfo | None, worker_id: UUID | None) -> None:
    """The actor raises for themselves, or for a worker they are the upper contact of."""
    if not actor.active:
        raise NotPermittedError(
            "actor", "the acting member is not an active member", code="actor_not_active"
        )
    if worker_id is None:
        return
    if worker is None:
        raise NotFoundError("on_behalf_of", "no such member", code="member_not_found")
    if not worker.active or worker.upper_member_id != actor.member_id:
        raise NotPermittedError(
            "on_behalf_of",
            "this worker is not yours: you are not their upper contact",
            code="not_your_worker",
        )


def decide_raise(
    command: cmd.RaiseSuggestion,
    suggestion_id: UUID,
    existing: Suggestion | None,
    actor: MemberInfo,
    worker: MemberInfo | None,
    routing: Routing,
    up: Routing | None = None,
) -> Decision:
    """Raise a new suggestion, held where the chain leads from the one it speaks for (the
    actor, or ``worker``: the member ``command.on_behalf_of`` names, None if unknown).

    A representative who raises for their own worker would hold it themself: as
    ``command.then`` says, it is answered now, or passed up at once (``up``: where the chain
    leads from the actor)."""
    _speaks_for(actor, worker, command.on_behalf_of)
    if existing is not None:
        raise StateConflictError(
            "suggestion_id", "a suggestion with this id exists", code="suggestion_exists"
        )
    raised: Decision = [
        Unsealed(
            "text",
            command.text,
            lambda sealed: ev.SuggestionRaised(
                suggestion_id=suggestion_id,
                raised_by=actor.member_id,
                on_behalf_of=command.on_behalf_of,
                category=command.category,
                channel=command.channel,
                text=sealed,
                holder_id=routing.holder_id,
                holder_tier=routing.holder_tier,
                route=routing.route,
                passed_over=list(routing.passed_over),
            ),
        )
    ]
    return raised + _own_choice(command, suggestion_id, actor, routing, up)


def _own_choice(
    command: cmd.RaiseSuggestion,
    suggestion_id: UUID,
    actor: MemberInfo,
    routing: Routing,
    up: Routing | None,
) -> Decision:
    """What a member who raises for their own worker does with what they now hold, so it
    does not come back to them to acknowledge: they answer it now, or pass it up at once.
    Without a choice it is refused: held silently, it would wait in their own inbox while
    the worker was told it had been passed on."""
    mine = routing.holder_id == actor.member_id
    if command.then is not None and not mine:
        raise StateConflictError(
            "then",
            "only when you raise it for your own worker (you would hold it yourself)",
            code="raise_choice_own_worker",
        )
    if not mine:
        return []
    if command.then is None:
        raise StateConflictError(
            "then",
            "you raise it for your own worker: answer it now (then=answer) or pass it up "
            "at once (then=pass_up, with the reason)",
            code="raise_choice_required",
        )
    held = Suggestion(
        suggestion_id,
        actor.member_id,
        command.on_behalf_of,
        "held",
        routing.holder_id,
        routing.holder_tier,
        0,
        datetime.min,
    )
    seen = ev.SuggestionAcknowledged(
        suggestion_id=suggestion_id, acknowledged_by=actor.member_id, level=0
    )
    if command.then == "answer":
        if command.answer is None:
            raise DomainError("answer", "answering it now, write the answer", code="required")
        return [
            seen,
            *decide_answer(
                replace(held, status="acknowledged"), actor, command_answer(command.answer)
            ),
        ]
    if command.then == "pass_up":
        if command.reason is None:
            raise DomainError("reason", "passing it up, say why", code="required")
        assert up is not None, "the handler finds where the chain leads from the actor"
        note = command.reason
        return [
            Unsealed(
                "note",
                note,
                lambda sealed: _escalated(held, up, "by_hand", by=actor.member_id, note=sealed),
            )
        ]
    return []


def command_answer(answer: str) -> cmd.AnswerSuggestion:
    """The answer a raise carries, as the answer command it stands for."""
    return cmd.AnswerSuggestion(answer=answer)


def decide_acknowledge(state: Suggestion, actor: MemberInfo) -> Decision:
    """The holder has seen the suggestion they hold."""
    _holder(state, actor)
    _status(state, ("held",), "acknowledge")
    return [
        ev.SuggestionAcknowledged(
            suggestion_id=state.suggestion_id, acknowledged_by=actor.member_id, level=state.level
        )
    ]


def decide_answer(state: Suggestion, actor: MemberInfo, command: cmd.AnswerSuggestion) -> Decision:
    """The holder answers the raiser, once they have acknowledged the suggestion."""
    _holder(state, actor)
    _status(state, ("acknowledged",), "answer")
    return [
        Unsealed(
            "answer",
            command.answer,
            lambda sealed: ev.SuggestionAnswered(
                suggestion_id=state.suggestion_id,
                answered_by=actor.member_id,
                level=state.level,
                answer=sealed,
            ),
        )
    ]


def _escalated(
    state: Suggestion,
    routing: Routing,
    reason: EscalationReason,
    *,
    by: UUID | None = None,
    note: str | None = None,
    missed: Deadline | None = None,
) -> ev.SuggestionEscalated:
    return ev.SuggestionEscalated(
        suggestion_id=state.suggestion_id,
        level=state.level,
        reason=reason,
        missed=missed,
        escalated_by=by,
        note=note,
        from_holder_id=state.holder_id,
        to_holder_id=routing.holder_id,
        to_holder_tier=routing.holder_tier,
        route=routing.route,
        passed_over=list(routing.passed_over),
    )


def decide_escalate(
    state: Suggestion, actor: MemberInfo, command: cmd.EscalateSuggestion, routing: Routing
) -> Decision:
    """The holder passes the suggestion, while it waits on them, to where the chain leads from
    them (``routing``), with a reason."""
    _holder(state, actor)
    _status(state, ("held", "acknowledged"), "escalate")
    if state.holder_id is None:
        raise StateConflictError(
            "status", "the suggestion is already at the top of the chain", code="at_top"
        )
    return [
        Unsealed(
            "note",
            command.reason,
            lambda sealed: _escalated(state, routing, "by_hand", by=actor.member_id, note=sealed),
        )
    ]


def overdue(
    state: Suggestion | None, now: datetime, policy: DeadlinePolicy, holder_departed: bool
) -> tuple[EscalationReason, Deadline | None] | None:
    """Why the suggestion must move up by itself now, or None if it need not."""
    if state is None or state.holder_id is None or state.status not in ("held", "acknowledged"):
        return None
    if holder_departed:
        return "holder_departed", None
    due = policy.recorded_due(state.status, state.holder_tier, state.arrived_at, state.deadline)
    if due is not None and due[0] <= now:
        return "deadline", due[1]
    return None


def decide_automatic_escalation(
    state: Suggestion | None,
    now: datetime,
    policy: DeadlinePolicy,
    holder_departed: bool,
    routing: Routing,
) -> Decision:
    """Escalate to where the chain leads from the holder (``routing``) when a deadline passed
    by ``now`` or the holder departed; otherwise nothing (so a second look changes nothing)."""
    why = overdue(state, now, policy, holder_departed)
    if state is None or why is None:
        return []
    return [_escalated(state, routing, why[0], missed=why[1])]


def department_due(state: Suggestion | None, department_days: float | None) -> datetime | None:
    """When the department's step is due, by the rule it started under (for an assignment
    written before rules were recorded: ``department_days`` calendar days, as then)."""
    if state is None or state.status != "assigned":
        return None
    recorded = state.department_deadline
    if recorded == "unrecorded":
        if department_days is None or state.assigned_at is None:
            return None
        return state.assigned_at + timedelta(days=department_days)
    return None if recorded is None else recorded.due_by


def decide_department_overdue(
    state: Suggestion | None, now: datetime, department_days: float | None
) -> Decision:
    """The department's deadline passed by ``now`` without an outcome: it goes back up to
    whoever assigned it (超期); otherwise nothing (so a second look changes nothing)."""
    due = department_due(state, department_days)
    if state is None or due is None or due > now or state.assigned_by is None:
        return []
    return [
        ev.SuggestionDepartmentOverdue(
            suggestion_id=state.suggestion_id,
            department=state.department or "",
            level=state.level,
            assigned_by=state.assigned_by,
            due_by=due,
            taken_up=state.taken_up_by is not None,
        )
    ]


def decide_assign(
    state: Suggestion,
    actor: MemberInfo,
    command: cmd.AssignSuggestion,
    departments: Mapping[str, str],
) -> Decision:
    """At the top of the chain, the holder gives the suggestion to a federation department."""
    _holder(state, actor)
    if command.department not in departments:
        raise DomainError(
            "department",
            f"unknown department; one of {sorted(departments)}",
            code="not_one_of",
            expected=sorted(departments),
        )
    _status(state, ("acknowledged",), "assign")
    if state.holder_id is not None and state.holder_tier != "leader":
        raise StateConflictError(
            "status",
            "only a leadership member, at the top of the chain, assigns a department",
            code="leadership_assigns",
        )
    return [
        ev.SuggestionAssigned(
            suggestion_id=state.suggestion_id,
            assigned_by=actor.member_id,
            level=state.level,
            department=command.department,
        )
    ]


def decide_resolve(
    state: Suggestion,
    actor: MemberInfo,
    command: cmd.ResolveSuggestion,
    department_members: frozenset[UUID] = frozenset(),
) -> Decision:
    """The department's outcome of an assigned suggestion, recorded by a member acting for
    the department (``department_members``) or by the holder for it."""
    if not (actor.active and actor.member_id in department_members):
        _holder(state, actor)
    _status(state, ("assigned",), "resolve")
    return [
        Unsealed(
            "outcome",
            command.outcome,
            lambda sealed: ev.SuggestionResolved(
                suggestion_id=state.suggestion_id,
                resolved_by=actor.member_id,
                department=state.department or "",
                outcome=sealed,
            ),
        )
    ]


def decide_close(state: Suggestion, actor_id: UUID) -> Decision:
    """The raiser is satisfied with the answer or the outcome."""
    _by_the_raiser(state, actor_id)
    return [ev.SuggestionClosed(suggestion_id=state.suggestion_id, closed_by=actor_id)]


def decide_reopen(state: Suggestion, actor_id: UUID, command: cmd.ReopenSuggestion) -> Decision:
    """The raiser is not satisfied: the same holder has it again, with fresh deadlines."""
    _by_the_raiser(state, actor_id)
    return [
        Unsealed(
            "reason",
            command.reason,
            lambda sealed: ev.SuggestionReopened(
                suggestion_id=state.suggestion_id,
                reopened_by=actor_id,
                reason=sealed,
                holder_id=state.holder_id,
                holder_tier=state.holder_tier,
                level=state.level,
            ),
        )
    ]
