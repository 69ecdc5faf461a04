"""Events of the feedback service: a suggestion's life, from raised to closed.

Names and versions are part of the public contract on ``sanlian.feedback.events``: a change of
shape is a new version with an upcaster, never an edit. Members are referred to by id only.
What workers said (the suggestion's text, answers, outcomes, escalation and reopening notes)
may name people, so it travels sealed under a key of the suggestion's own (subject id = the
suggestion id, see ``eventspine.crypto``); destroying that key shreds it everywhere.

The holder is the member who must act now. ``holder_id`` null means the suggestion is at the
top of the chain, with the federation leadership (any active leadership member may act).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from eventspine.events import DomainEvent, EventCatalogue

Category = Literal[
    "rights",  # 权益保障: contracts, dismissals, overtime
    "wages_and_welfare",  # 工资福利
    "safety",  # 安全生产, occupational health
    "training",  # 培训: skills, representatives' own training
    "union_work",  # 工会工作: how the union itself works
    "other",
]
Channel = Literal["meeting", "visit", "phone", "online"]
HolderTier = Literal["representative", "committee", "leader"]
Route = Literal["upper_contact", "next_one_up", "no_upper_contact", "top_of_chain"]
EscalationReason = Literal["by_hand", "deadline", "holder_departed"]
Deadline = Literal["acknowledge", "answer"]
DeadlineUnit = Literal["calendar", "working"]
Unrecorded = Literal["unrecorded"]

SEALED_PATTERN = r"^v1\.[A-Za-z0-9_\-]+$"
SEALED = Field(
    pattern=SEALED_PATTERN,
    description="sealed with the suggestion's key (v1.<base64url>); unreadable once shredded",
)
DEPARTMENT = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$", description="code of a federation department")
LEVEL = Field(ge=0, description="escalations so far: 0 is the first holder")
ROUTE = Field(
    description="how the holder was found: the upper contact; the next one up past departed "
    "members (listed in passed_over); nobody because a member has no upper contact; or the top "
    "of the chain (the federation leadership)"
)
PASSED_OVER = "departed members the chain went past, lowest first"


UNIT = "calendar days, or working days by the official calendar"


class HolderDeadline(BaseModel):
    """The rule a holder's clock started under, and the deadlines it set.

    Recorded when the clock starts (raised, received, escalated, reopened), so the deadline is
    the one the holder was given, whatever the settings say later: the unit and the days for
    an auditor (which rule), the moments for every reader (the deadline shown, the warning and
    the escalation), which no later change of settings or of the calendar moves.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    unit: DeadlineUnit = Field(description=UNIT)
    acknowledge_days: float = Field(gt=0, le=365, description="days to acknowledge")
    answer_days: float = Field(gt=0, le=365, description="days to answer, from the same start")
    acknowledge_by: AwareDatetime = Field(description="when the acknowledge deadline passes")
    answer_by: AwareDatetime = Field(description="when the answer deadline passes")


class DepartmentDeadline(BaseModel):
    """The rule a department's step started under (assigned), and when its outcome is due."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    unit: DeadlineUnit = Field(description=UNIT)
    days: float = Field(gt=0, le=365, description="days the department has for its outcome")
    due_by: AwareDatetime = Field(description="when the department's deadline passes")


UNRECORDED_MEANING = (
    "unrecorded: upcast from version 1, written before the rule was recorded; its clock counts "
    "as version 1 was read, by the deadline settings (SANLIAN_FEEDBACK_DEADLINES, _UNIT and "
    "_UNIT_SINCE) for a clock started when the event was recorded"
)
HOLDER_DEADLINE = Field(
    None,
    description="the holder's deadlines, by the rule in force when the clock started; null: "
    "none runs (the top of the chain); " + UNRECORDED_MEANING,
)


class SuggestionRaisedV1(DomainEvent):
    """A member raised a suggestion, for themselves or (a representative) for one of their
    workers; it is now held by the upper contact of the one it speaks for."""

    event_type = "SuggestionRaised"
    event_version = 1

    suggestion_id: UUID
    raised_by: UUID = Field(description="the member who raised it (and confirms or reopens)")
    on_behalf_of: UUID | None = Field(None, description="the worker it was raised for, if any")
    category: Category
    channel: Channel = Field(description="how it reached the union: meeting, visit, phone, online")
    text: str = SEALED
    holder_id: UUID | None = Field(description="null: the federation leadership")
    holder_tier: HolderTier | None
    route: Route = ROUTE
    passed_over: list[UUID] = Field(default_factory=list, description=PASSED_OVER)


class SuggestionAcknowledged(DomainEvent):
    """The holder has seen the suggestion; the answer deadline now runs."""

    event_type = "SuggestionAcknowledged"
    event_version = 1

    suggestion_id: UUID
    acknowledged_by: UUID
    level: int = LEVEL


class SuggestionEscalatedV1(DomainEvent):
    """The suggestion moved up the chain: by hand, because a deadline passed, or because its
    holder departed. ``level`` is the level it left."""

    event_type = "SuggestionEscalated"
    event_version = 1

    suggestion_id: UUID
    level: int = LEVEL
    reason: EscalationReason
    missed: Deadline | None = Field(None, description="the deadline that passed, if any")
    escalated_by: UUID | None = Field(None, description="null when the scheduler escalated")
    note: str | None = Field(None, pattern=SEALED_PATTERN, description="sealed note")
    from_holder_id: UUID | None
    to_holder_id: UUID | None = Field(description="null: the federation leadership")
    to_holder_tier: HolderTier | None
    route: Route = ROUTE
    passed_over: list[UUID] = Field(default_factory=list, description=PASSED_OVER)


class SuggestionAnswered(DomainEvent):
    """The holder answered the raiser."""

    event_type = "SuggestionAnswered"
    event_version = 1

    suggestion_id: UUID
    answered_by: UUID
    level: int = LEVEL
    answer: str = SEALED


class SuggestionAssignedV1(DomainEvent):
    """At the top of the chain, the suggestion was given to a federation department to act."""

    event_type = "SuggestionAssigned"
    event_version = 1

    suggestion_id: UUID
    assigned_by: UUID
    level: int = LEVEL
    department: str = DEPARTMENT


class SuggestionResolved(DomainEvent):
    """The department's work is done; the outcome is recorded for the raiser."""

    event_type = "SuggestionResolved"
    event_version = 1

    suggestion_id: UUID
    resolved_by: UUID
    department: str = DEPARTMENT
    outcome: str = SEALED


class SuggestionClosed(DomainEvent):
    """The raiser confirmed the answer or outcome: the suggestion is done."""

    event_type = "SuggestionClosed"
    event_version = 1

    suggestion_id: UUID
    closed_by: UUID


class SuggestionReopenedV1(DomainEvent):
    """The raiser was not satisfied: the suggestion is held again by the same holder."""

    event_type = "SuggestionReopened"
    event_version = 1

    suggestion_id: UUID
    reopened_by: UUID
    reason: str = SEALED
    holder_id: UUID | None
    holder_tier: HolderTier | None
    level: int = LEVEL


IntakeOwner = Literal["representative", "unit"]
Verification = Literal["anonymous", "unverified", "matched"]
Rating = Literal["satisfied", "basically_satisfied", "dissatisfied"]
SetAsideMark = Literal["spam", "duplicate"]
INDEX = Field(pattern=r"^[0-9a-f]{64}$", description="keyed hash (HMAC-SHA256, hex)")


class IntakeLinkIssued(DomainEvent):
    """A link (and its QR code) by which workers without an account raise suggestions: it
    opens the intake page, and what arrives through it is held by ``holder_id``. One link is
    live per owner (a representative, or an enterprise union); a new one revokes the old."""

    event_type = "IntakeLinkIssued"
    event_version = 1

    link_id: UUID = Field(description="what the signed link names (the signature is not kept)")
    owner: IntakeOwner
    unit_id: UUID = Field(description="the union organisation the link belongs to")
    holder_id: UUID = Field(description="the member who receives what arrives by the link")
    issued_by: UUID


class IntakeLinkRevoked(DomainEvent):
    """A link no longer opens the intake page (revoked, or replaced by a new one)."""

    event_type = "IntakeLinkRevoked"
    event_version = 1

    link_id: UUID
    revoked_by: UUID
    reissued: bool = Field(description="true: replaced by a new link in the same append")


class SuggestionReceivedV1(DomainEvent):
    """A worker without an account raised a suggestion through an intake link; it is now
    held by the link's holder (or the next one up, if the holder departed). The worker follows
    it with a code only they have: the event keeps the code's keyed hash, never the code."""

    event_type = "SuggestionReceived"
    event_version = 1

    suggestion_id: UUID
    link_id: UUID
    unit_id: UUID = Field(description="the union organisation of the link")
    category: Category
    text: str = SEALED
    contact: str | None = Field(
        None, pattern=SEALED_PATTERN, description="sealed name and phone, if the worker gave any"
    )
    verification: Verification = Field(
        description="anonymous (no phone given), unverified (a phone the roster does not "
        "know), matched (the phone of ``worker_id`` in the roster)"
    )
    worker_id: UUID | None = Field(None, description="the roster member the phone matched")
    follow_up_index: str = INDEX
    holder_id: UUID | None = Field(description="null: the federation leadership")
    holder_tier: HolderTier | None
    passed_over: list[UUID] = Field(default_factory=list, description=PASSED_OVER)


class SuggestionRatedV1(DomainEvent):
    """The raiser said whether the answer or outcome solved it (the 12351 回访): satisfied,
    basically satisfied or dissatisfied, with an optional comment. ``reopened``: not solved, so
    the suggestion is held again by the same holder; otherwise it is closed."""

    event_type = "SuggestionRated"
    event_version = 1

    suggestion_id: UUID
    rating: Rating
    comment: str | None = Field(None, pattern=SEALED_PATTERN, description="sealed comment")
    rated_by: UUID | None = Field(description="the member who raised it; null: the worker")
    reopened: bool
    holder_id: UUID | None
    holder_tier: HolderTier | None
    level: int = LEVEL


class SuggestionSetAside(DomainEvent):
    """The holder set the suggestion aside as spam or as a duplicate of another, with a
    reason the raiser sees on the follow-up page; nobody needs to act on it any more."""

    event_type = "SuggestionSetAside"
    event_version = 1

    suggestion_id: UUID
    mark: SetAsideMark
    duplicate_of: UUID | None = Field(
        None, description="for a duplicate: the suggestion it repeats"
    )
    reason: str = SEALED
    set_aside_by: UUID
    level: int = LEVEL


class DepartmentMemberAppointed(DomainEvent):
    """A leadership member appointed a member to act for a federation department: they see
    what is assigned to it, take it up and record the outcome."""

    event_type = "DepartmentMemberAppointed"
    event_version = 1

    department: str = DEPARTMENT
    member_id: UUID
    appointed_by: UUID


class DepartmentMemberReleased(DomainEvent):
    """A member no longer acts for a department."""

    event_type = "DepartmentMemberReleased"
    event_version = 1

    department: str = DEPARTMENT
    member_id: UUID
    released_by: UUID


class SuggestionTakenUp(DomainEvent):
    """A member acting for the department it was assigned to took the suggestion up (the
    department's acknowledgement); the outcome is theirs to record now."""

    event_type = "SuggestionTakenUp"
    event_version = 1

    suggestion_id: UUID
    department: str = DEPARTMENT
    taken_up_by: UUID
    level: int = LEVEL


TagCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
TagSource = Literal["chosen", "suggested", "retagged"]


class SuggestionTagged(DomainEvent):
    """The suggestion's tags (codes of the federation's vocabulary, never words from the text)
    as they now stand: chosen by the raiser, suggested from the text by the vocabulary's
    keywords when the raiser chose none, or set again by a holder. An empty list removes them."""

    event_type = "SuggestionTagged"
    event_version = 1

    suggestion_id: UUID
    tags: list[TagCode] = Field(max_length=10, description="tag codes, no repeats")
    source: TagSource = Field(
        description="chosen on the form, suggested from the text, or retagged by a holder"
    )
    tagged_by: UUID | None = Field(description="the member; null: a worker by an intake link")


# -- version 2: the rule each clock started under ------------------------------------------
# A holder's deadline used to be decided when read, from the settings then; from version 2 the
# events that start a clock carry it (see HolderDeadline). Version 1 reads as "unrecorded",
# which keeps its version-1 meaning (the policy's settings at the clock's start), so nothing
# written before is edited or reinterpreted.


class SuggestionRaised(SuggestionRaisedV1):
    """A member raised a suggestion, for themselves or (a representative) for one of their
    workers; it is now held by the upper contact of the one it speaks for, with the deadlines
    the rule in force then gave that holder."""

    event_version = 2

    deadline: HolderDeadline | Unrecorded | None = HOLDER_DEADLINE


class SuggestionReceived(SuggestionReceivedV1):
    """A worker without an account raised a suggestion through an intake link; it is now
    held by the link's holder (or the next one up), with the deadlines the rule in force then
    gave that holder. The event keeps the follow-up code's keyed hash, never the code."""

    event_version = 2

    deadline: HolderDeadline | Unrecorded | None = HOLDER_DEADLINE


class SuggestionEscalated(SuggestionEscalatedV1):
    """The suggestion moved up the chain (by hand, because a deadline passed, or because its
    holder departed), with the deadlines the rule in force then gave the new holder.
    ``level`` is the level it left."""

    event_version = 2

    deadline: HolderDeadline | Unrecorded | None = HOLDER_DEADLINE


class SuggestionReopened(SuggestionReopenedV1):
    """The raiser was not satisfied: the suggestion is held again by the same holder, with
    fresh deadlines by the rule in force then."""

    event_version = 2

    deadline: HolderDeadline | Unrecorded | None = HOLDER_DEADLINE


class SuggestionRated(SuggestionRatedV1):
    """The raiser said whether the answer or outcome solved it (the 12351 回访). ``reopened``:
    not solved, so the suggestion is held again by the same holder, with fresh deadlines by
    the rule in force then; otherwise it is closed (and ``deadline`` is null)."""

    event_version = 2

    deadline: HolderDeadline | Unrecorded | None = HOLDER_DEADLINE


class SuggestionAssigned(SuggestionAssignedV1):
    """At the top of the chain, the suggestion was given to a federation department to act,
    with the department's deadline by the rule in force then."""

    event_version = 2

    deadline: DepartmentDeadline | Unrecorded | None = Field(
        None,
        description="the department's deadline, by the rule in force when it was assigned; "
        "null: none runs (no department deadline is set); unrecorded: upcast from version 1, "
        "written before the rule was recorded; it counts as version 1 was read "
        "(SANLIAN_FEEDBACK_DEPARTMENT_DAYS calendar days from the assignment)",
    )


class SuggestionDepartmentOverdue(DomainEvent):
    """The department's deadline passed without an outcome (超期): the suggestion goes back
    up to whoever assigned it, at the top of the chain again, so that they urge the department
    (assign it again) or assign another; no deadline runs until they do."""

    event_type = "SuggestionDepartmentOverdue"
    event_version = 1

    suggestion_id: UUID
    department: str = DEPARTMENT
    level: int = LEVEL
    assigned_by: UUID = Field(description="who assigned it, to whom it goes back")
    due_by: AwareDatetime = Field(description="the department's deadline that passed")
    taken_up: bool = Field(description="whether the department had taken it up")


def _unrecorded(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 of a clock-starting event: its rule was not recorded."""
    return {**data, "deadline": "unrecorded"}


def _rated_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """A rating that closed the suggestion started no clock."""
    return {**data, "deadline": "unrecorded" if data.get("reopened") else None}


_UPCASTERS = {
    ("SuggestionRaised", 1): _unrecorded,
    ("SuggestionReceived", 1): _unrecorded,
    ("SuggestionEscalated", 1): _unrecorded,
    ("SuggestionReopened", 1): _unrecorded,
    ("SuggestionRated", 1): _rated_v1_to_v2,
    ("SuggestionAssigned", 1): _unrecorded,
}


CATALOGUE = EventCatalogue(
    [
        SuggestionRaised,
        SuggestionAcknowledged,
        SuggestionEscalated,
        SuggestionAnswered,
        SuggestionAssigned,
        SuggestionResolved,
        SuggestionClosed,
        SuggestionReopened,
        IntakeLinkIssued,
        IntakeLinkRevoked,
        SuggestionReceived,
        SuggestionRated,
        SuggestionSetAside,
        DepartmentMemberAppointed,
        DepartmentMemberReleased,
        SuggestionTakenUp,
        SuggestionRaisedV1,
        SuggestionReceivedV1,
        SuggestionEscalatedV1,
        SuggestionReopenedV1,
        SuggestionRatedV1,
        SuggestionAssignedV1,
        SuggestionDepartmentOverdue,
        SuggestionTagged,
    ],
    upcasters=_UPCASTERS,
)
