"""A suggestion's state, folded from its events, and the facts a decision is given.

``evolve`` applies one event (with the time it was recorded) to the state. Who may act comes in
as plain values (the acting member as the roster replica knows them), and where the chain leads
comes in as a :class:`Routing` the handler found in the replica. No I/O here; the rules
that move a suggestion along are in :mod:`feedback.domain`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from contracts.feedback import DepartmentDeadline, Unrecorded
from escalation import Recorded
from eventspine.events import DomainEvent
from feedback import events as ev
from feedback.events import HolderTier, Route

Status = Literal["held", "acknowledged", "answered", "assigned", "resolved", "closed", "set_aside"]
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
    raised_by: UUID | None  # None: a worker without an account, by an intake link
    on_behalf_of: UUID | None
    status: Status
    holder_id: UUID | None
    holder_tier: HolderTier | None
    level: int
    arrived_at: datetime
    department: str | None = None
    follow_up_index: str | None = None  # the keyed hash of the worker's follow-up code
    taken_up_by: UUID | None = None  # who took it up for the department it was assigned to
    deadline: Recorded = "unrecorded"  # the holder's clock's rule, as its event recorded it
    department_deadline: DepartmentDeadline | Unrecorded | None = None
    assigned_by: UUID | None = None  # to whom an overdue department step goes back
    assigned_at: datetime | None = None


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
                deadline=event.deadline,
            )
        case ev.SuggestionReceived():
            return Suggestion(
                suggestion_id=event.suggestion_id,
                raised_by=None,
                on_behalf_of=event.worker_id,
                status="held",
                holder_id=event.holder_id,
                holder_tier=event.holder_tier,
                level=0,
                arrived_at=at,
                follow_up_index=event.follow_up_index,
                deadline=event.deadline,
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
                deadline=event.deadline,
            )
        case ev.SuggestionAnswered():
            return replace(state, status="answered")
        case ev.SuggestionAssigned():
            # Assigned again (to urge the department, or to another): a fresh step.
            return replace(
                state,
                status="assigned",
                department=event.department,
                department_deadline=event.deadline,
                assigned_by=event.assigned_by,
                assigned_at=at,
                taken_up_by=None,
            )
        case ev.SuggestionDepartmentOverdue():
            # Back with whoever assigned it; no deadline runs until they act.
            return replace(state, status="acknowledged", department_deadline=None, deadline=None)
        case ev.SuggestionResolved():
            return replace(state, status="resolved")
        case ev.SuggestionClosed():
            return replace(state, status="closed")
        case ev.SuggestionReopened():
            return replace(state, status="held", arrived_at=at, deadline=event.deadline)
        case ev.SuggestionRated():
            if event.reopened:
                return replace(state, status="held", arrived_at=at, deadline=event.deadline)
            return replace(state, status="closed")
        case ev.SuggestionSetAside():
            return replace(state, status="set_aside")
        case ev.SuggestionTakenUp():
            return replace(state, taken_up_by=event.taken_up_by)
    return state
