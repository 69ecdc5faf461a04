"""The rules of a suggestion: state folded from its events, decisions that return new events.

No I/O here. ``evolve`` applies one event (with the time it was recorded) to the state; the
``decide_*`` functions check a command against the state and return the events to append, or
raise a ``DomainError`` naming the field and the reason. Who may act comes in as plain values
(the acting member as the roster replica knows them), and where the chain leads comes in as a
:class:`Routing` the handler found in the replica.

Lifecycle: held -> acknowledged -> answered | escalated (held again, one level up) ->
at the top: assigned -> resolved; answered or resolved -> closed | reopened (held again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from escalation import DeadlinePolicy
from eventspine.errors import (
    DomainError,
    NotFoundError,
    NotPermittedError,
    StateConflictError,
)
from eventspine.events import DomainEvent
from feedback import events as ev
from feedback.events import Deadline, EscalationReason, HolderTier, Route

Status = Literal["held", "acknowledged", "answered", "assigned", "resolved", "closed"]
OPEN: tuple[Status, ...] = ("held", "acknowledged", "assigned")
HOLDER_TIERS: tuple[HolderTier, ...] = ("representative", "committee", "leader")


@dataclass(frozen=True)
class MemberInfo:
    """A member as the roster replica knows them."""

    member_id: UUID
    tier: str
    status: str
    upper_member_id: UUID | None

    @property
    def active(self) -> bool:
        """Still in the contact system."""
        return self.status == "active"


@dataclass(frozen=True)
class Routing:
    """Where the chain leads from a member: the next holder (None: the federation leadership)."""

    holder_id: UUID | None
    holder_tier: HolderTier | None
    route: Route
    passed_over: tuple[UUID, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    """A suggestion's state."""

    suggestion_id: UUID
    raised_by: UUID
    on_behalf_of: UUID | None
    status: Status
    holder_id: UUID | None
    holder_tier: HolderTier | None
    level: int
    arrived_at: datetime
    department: str | None = None


def evolve(state: Suggestion | None, event: DomainEvent, at: datetime) -> Suggestion | None:
    """Apply one event recorded at ``at``."""
    match event:
        case ev.SuggestionRaised():
            return Suggestion(
                suggestion_id=event.suggestion_id,
                raised_by=event.raised_by,
                on_behalf_of=event.on_behalf_of,
                status="held",
                holder_id=event.holder_id,
                holder_tier=event.holder_tier,
                level=0,
                arrived_at=at,
            )
    if state is None:
        return None
    match event:
        case ev.SuggestionAcknowledged():
            return replace(state, status="acknowledged")
        case ev.SuggestionEscalated():
            return replace(
                state,
                status="held",
                holder_id=event.to_holder_id,
                holder_tier=event.to_holder_tier,
                level=event.level + 1,
                arrived_at=at,
            )
        case ev.SuggestionAnswered():
            return replace(state, status="answered")
        case ev.SuggestionAssigned():
            return replace(state, status="assigned", department=event.department)
        case ev.SuggestionResolved():
            return replace(state, status="resolved")
        case ev.SuggestionClosed():
            return replace(state, status="closed")
        case ev.SuggestionReopened():
            return replace(state, status="held", arrived_at=at)
    return state


def require(state: Suggestion | None) -> Suggestion:
    """The suggestion, or 404."""
    if state is None:
        raise NotFoundError("suggestion_id", "no such suggestion")
    return state


def _status(state: Suggestion, allowed: tuple[Status, ...], doing: str) -> None:
    if state.status not in allowed:
        raise StateConflictError(
            "status",
            f"cannot {doing} a suggestion that is {state.status}; "
            f"it must be {' or '.join(allowed)}",
        )


def _holder(state: Suggestion, actor: MemberInfo) -> None:
    """Only the holder acts; at the top of the chain, any active leadership member."""
    if state.holder_id is None:
        if actor.active and actor.tier == "leader":
            return
        raise NotPermittedError(
            "actor", "the suggestion is with the federation leadership: a leadership member acts"
        )
    if state.holder_id != actor.member_id:
        raise NotPermittedError("actor", "you do not hold this suggestion")


def _raiser(state: Suggestion, actor_id: UUID) -> None:
    if state.raised_by != actor_id:
        raise NotPermittedError("actor", "only the member who raised the suggestion may do this")


def check_raiser(
    actor: MemberInfo | None, worker: MemberInfo | None, worker_id: UUID | None
) -> UUID:
    """Who the suggestion speaks for (the actor, or their worker); refuse anyone else."""
    if actor is None or not actor.active:
        raise NotPermittedError("actor", "the acting member is not an active member")
    if worker_id is None:
        return actor.member_id
    if worker is None:
        raise NotFoundError("on_behalf_of", "no such member")
    if not worker.active or worker.upper_member_id != actor.member_id:
        raise NotPermittedError(
            "on_behalf_of", "this worker is not yours: you are not their upper contact"
        )
    return worker.member_id


def check_new(existing: Suggestion | None) -> None:
    """A suggestion id is used once."""
    if existing is not None:
        raise StateConflictError("suggestion_id", "a suggestion with this id exists")


def decide_raise(
    suggestion_id: UUID,
    existing: Suggestion | None,
    raised_by: UUID,
    on_behalf_of: UUID | None,
    category: ev.Category,
    channel: ev.Channel,
    sealed_text: str,
    routing: Routing,
) -> list[DomainEvent]:
    """Raise a new suggestion, held where the chain leads from the one it speaks for."""
    check_new(existing)
    return [
        ev.SuggestionRaised(
            suggestion_id=suggestion_id,
            raised_by=raised_by,
            on_behalf_of=on_behalf_of,
            category=category,
            channel=channel,
            text=sealed_text,
            holder_id=routing.holder_id,
            holder_tier=routing.holder_tier,
            route=routing.route,
            passed_over=list(routing.passed_over),
        )
    ]


def check_acknowledge(state: Suggestion, actor: MemberInfo) -> None:
    """The holder may acknowledge a suggestion they hold."""
    _holder(state, actor)
    _status(state, ("held",), "acknowledge")


def decide_acknowledge(state: Suggestion, actor: MemberInfo) -> list[DomainEvent]:
    """The holder has seen it."""
    check_acknowledge(state, actor)
    return [
        ev.SuggestionAcknowledged(
            suggestion_id=state.suggestion_id, acknowledged_by=actor.member_id, level=state.level
        )
    ]


def check_answer(state: Suggestion, actor: MemberInfo) -> None:
    """The holder may answer an acknowledged suggestion."""
    _holder(state, actor)
    _status(state, ("acknowledged",), "answer")


def decide_answer(state: Suggestion, actor: MemberInfo, sealed_answer: str) -> list[DomainEvent]:
    """The holder answers the raiser."""
    check_answer(state, actor)
    return [
        ev.SuggestionAnswered(
            suggestion_id=state.suggestion_id,
            answered_by=actor.member_id,
            level=state.level,
            answer=sealed_answer,
        )
    ]


def check_escalate(state: Suggestion, actor: MemberInfo) -> None:
    """The holder may pass a suggestion up while it waits on them."""
    _holder(state, actor)
    _status(state, ("held", "acknowledged"), "escalate")
    if state.holder_id is None:
        raise StateConflictError("status", "the suggestion is already at the top of the chain")


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
    state: Suggestion, actor: MemberInfo, routing: Routing, sealed_note: str
) -> list[DomainEvent]:
    """The holder passes the suggestion to their own upper contact, with a reason."""
    check_escalate(state, actor)
    return [_escalated(state, routing, "by_hand", by=actor.member_id, note=sealed_note)]


def overdue(
    state: Suggestion | None, now: datetime, policy: DeadlinePolicy, holder_departed: bool
) -> tuple[EscalationReason, Deadline | None] | None:
    """Why the suggestion must move up by itself now, or None if it need not."""
    if state is None or state.holder_id is None or state.status not in ("held", "acknowledged"):
        return None
    if holder_departed:
        return "holder_departed", None
    due = policy.due(state.status, state.holder_tier, state.arrived_at)
    if due is not None and due[0] <= now:
        return "deadline", due[1]
    return None


def decide_automatic_escalation(
    state: Suggestion,
    now: datetime,
    policy: DeadlinePolicy,
    holder_departed: bool,
    routing: Routing,
) -> list[DomainEvent]:
    """Escalate when a deadline passed or the holder departed; otherwise nothing."""
    why = overdue(state, now, policy, holder_departed)
    if why is None:
        return []
    return [_escalated(state, routing, why[0], missed=why[1])]


def decide_assign(
    state: Suggestion, actor: MemberInfo, department: str, departments: Mapping[str, str]
) -> list[DomainEvent]:
    """At the top of the chain, the holder gives the suggestion to a federation department."""
    _holder(state, actor)
    if department not in departments:
        raise DomainError("department", f"unknown department; one of {sorted(departments)}")
    _status(state, ("acknowledged",), "assign")
    if state.holder_id is not None and state.holder_tier != "leader":
        raise StateConflictError(
            "status", "only a leadership member, at the top of the chain, assigns a department"
        )
    return [
        ev.SuggestionAssigned(
            suggestion_id=state.suggestion_id,
            assigned_by=actor.member_id,
            level=state.level,
            department=department,
        )
    ]


def check_resolve(state: Suggestion, actor: MemberInfo) -> None:
    """The holder records the outcome of an assigned suggestion."""
    _holder(state, actor)
    _status(state, ("assigned",), "resolve")


def decide_resolve(state: Suggestion, actor: MemberInfo, sealed_outcome: str) -> list[DomainEvent]:
    """The department's outcome is recorded."""
    check_resolve(state, actor)
    return [
        ev.SuggestionResolved(
            suggestion_id=state.suggestion_id,
            resolved_by=actor.member_id,
            department=state.department or "",
            outcome=sealed_outcome,
        )
    ]


def check_close(state: Suggestion, actor_id: UUID) -> None:
    """The raiser confirms or rejects an answer or an outcome."""
    _raiser(state, actor_id)
    _status(state, ("answered", "resolved"), "confirm or reopen")


def decide_close(state: Suggestion, actor_id: UUID) -> list[DomainEvent]:
    """The raiser is satisfied."""
    check_close(state, actor_id)
    return [ev.SuggestionClosed(suggestion_id=state.suggestion_id, closed_by=actor_id)]


def decide_reopen(state: Suggestion, actor_id: UUID, sealed_reason: str) -> list[DomainEvent]:
    """The raiser is not satisfied: the same holder has it again, with fresh deadlines."""
    check_close(state, actor_id)
    return [
        ev.SuggestionReopened(
            suggestion_id=state.suggestion_id,
            reopened_by=actor_id,
            reason=sealed_reason,
            holder_id=state.holder_id,
            holder_tier=state.holder_tier,
            level=state.level,
        )
    ]
