"""The roster's rules: state folded from events, and decisions that return new events.

No I/O here. ``evolve_*`` apply one event to a state; the ``decide_*`` functions check a
command against the current states and return the events to append, or raise a
``DomainError`` that names the field and the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal
from uuid import UUID

from eventspine.errors import DomainError, NotFoundError, StateConflictError
from eventspine.events import DomainEvent
from roster import events as ev
from roster.events import Tier, UnitKind

TIER_ABOVE: dict[str, Tier] = {
    "committee": "leader",
    "representative": "committee",
    "worker": "representative",
}
TIER_NAMES = {
    "leader": "leadership member",
    "committee": "committee member",
    "representative": "representative",
    "worker": "worker",
}
PARENT_KINDS: dict[str, tuple[str, ...]] = {
    "city_federation": (),
    "county_union": ("city_federation",),
    "enterprise_union": ("county_union", "city_federation"),
}
Status = Literal["active", "departed", "forgotten"]


@dataclass(frozen=True)
class SpanPolicy:
    """Target spans per upper tier: 1 leader : 5 committee : 5 representatives : 10 workers."""

    leader: int = 5
    committee: int = 5
    representative: int = 10

    def target(self, tier: str) -> int:
        """How many lower members one member of ``tier`` should keep in contact with."""
        return int(getattr(self, tier))


def evolve_policy(state: SpanPolicy, event: DomainEvent) -> SpanPolicy:
    """Apply a ``SpanPolicyChanged``."""
    if isinstance(event, ev.SpanPolicyChanged):
        return SpanPolicy(event.leader, event.committee, event.representative)
    return state


@dataclass(frozen=True)
class Unit:
    """A union organisation."""

    unit_id: UUID
    name: str
    kind: UnitKind
    parent_unit_id: UUID | None
    closed: bool = False


def evolve_unit(state: Unit | None, event: DomainEvent) -> Unit | None:
    """Apply one unit event."""
    if isinstance(event, ev.UnitRegistered):
        return Unit(event.unit_id, event.name, event.kind, event.parent_unit_id)
    if state is None:
        return None
    if isinstance(event, ev.UnitRenamed):
        return replace(state, name=event.name)
    if isinstance(event, ev.UnitClosed):
        return replace(state, closed=True)
    return state


@dataclass(frozen=True)
class Member:
    """A member as the roster's rules need it."""

    member_id: UUID
    unit_id: UUID
    tier: Tier
    number_index: str
    personal_data: str
    status: Status = "active"
    upper_member_id: UUID | None = None
    lower_member_ids: frozenset[UUID] = field(default_factory=frozenset)

    @property
    def active(self) -> bool:
        """Still in the contact system."""
        return self.status == "active"


def evolve_member(state: Member | None, event: DomainEvent) -> Member | None:
    """Apply one event of a member's stream."""
    if isinstance(event, ev.MemberRegistered):
        return Member(
            event.member_id, event.unit_id, event.tier, event.number_index, event.personal_data
        )
    if state is None:
        return None
    match event:
        case ev.MemberDetailsChanged():
            return replace(state, personal_data=event.personal_data)
        case ev.MemberTierChanged():  # a tier change ends every link of the member
            return replace(
                state, tier=event.to_tier, upper_member_id=None, lower_member_ids=frozenset()
            )
        case ev.MemberMoved():
            return replace(state, unit_id=event.to_unit_id, number_index=event.number_index)
        case ev.MemberDeparted():
            return replace(
                state, status="departed", upper_member_id=None, lower_member_ids=frozenset()
            )
        case ev.MemberForgotten():
            return replace(state, status="forgotten")
        case ev.MemberAssigned():
            return replace(state, upper_member_id=event.upper_member_id)
        case ev.MemberUnassigned():
            return replace(state, upper_member_id=None)
        case ev.LowerMemberAdded():
            return replace(state, lower_member_ids=state.lower_member_ids | {event.lower_member_id})
        case ev.LowerMemberRemoved():
            return replace(state, lower_member_ids=state.lower_member_ids - {event.lower_member_id})
    return state


@dataclass(frozen=True)
class NumberClaim:
    """Who holds an external number within a unit (``None``: free)."""

    member_id: UUID | None = None


def evolve_claim(state: NumberClaim, event: DomainEvent) -> NumberClaim:
    """Apply a claim or release."""
    if isinstance(event, ev.ExternalNumberClaimed):
        return NumberClaim(event.member_id)
    if isinstance(event, ev.ExternalNumberReleased):
        return NumberClaim(None)
    return state


def require_unit(unit: Unit | None, field_name: str, *, open_: bool = True) -> Unit:
    """The unit, or a 404/409 naming ``field_name``."""
    if unit is None:
        raise NotFoundError(field_name, "no such union organisation")
    if open_ and unit.closed:
        raise StateConflictError(field_name, f"the union organisation {unit.name!r} is closed")
    return unit


def require_active(member: Member | None, field_name: str) -> Member:
    """The member, or a 404/409 naming ``field_name``."""
    if member is None:
        raise NotFoundError(field_name, "no such member")
    if not member.active:
        raise StateConflictError(field_name, f"the member has {member.status}")
    return member


def decide_unit_registration(
    existing: Unit | None, parent: Unit | None, event: ev.UnitRegistered
) -> list[DomainEvent]:
    """Register a unit under a parent of the right kind."""
    if existing is not None:
        raise StateConflictError("unit_id", "a union organisation with this id exists")
    allowed = PARENT_KINDS[event.kind]
    if not allowed:
        if event.parent_unit_id is not None:
            raise DomainError("parent_unit_id", "a city federation has no parent organisation")
        return [event]
    if event.parent_unit_id is None:
        raise DomainError("parent_unit_id", f"a {event.kind} needs a parent organisation")
    parent = require_unit(parent, "parent_unit_id")
    if parent.kind not in allowed:
        raise DomainError(
            "parent_unit_id", f"a {event.kind} belongs under a {' or '.join(allowed)}"
        )
    return [event]


def decide_link(
    lower: Member | None,
    upper: Member | None,
    policy: SpanPolicy,
    on: date,
    override_reason: str | None,
    *,
    relink_from: Member | None = None,
) -> dict[UUID, list[DomainEvent]]:
    """Link ``lower`` under ``upper`` (moving it from ``relink_from`` when relinking).

    Returns the events per member stream. Refuses links across non-adjacent tiers, self-links,
    departed members, a second upper member, and a full span without an override reason.
    """
    lower = require_active(lower, "lower_member_id")
    upper = require_active(upper, "upper_member_id")
    if lower.member_id == upper.member_id:
        raise DomainError("lower_member_id", "a member cannot keep in contact with themself")
    expected_upper = TIER_ABOVE.get(lower.tier)
    if expected_upper != upper.tier:
        wanted = f"a {TIER_NAMES[expected_upper]}" if expected_upper else "nobody (top tier)"
        raise DomainError(
            "upper_member_id",
            f"a {TIER_NAMES[lower.tier]} is linked under {wanted}, not a {TIER_NAMES[upper.tier]}",
        )
    if relink_from is None and lower.upper_member_id is not None:
        raise StateConflictError(
            "lower_member_id",
            f"the member is already linked to {lower.upper_member_id}; relink instead",
        )
    if relink_from is not None and lower.upper_member_id == upper.member_id:
        raise StateConflictError("upper_member_id", "the member is already linked to this member")
    target = policy.target(upper.tier)
    span = len(upper.lower_member_ids) + 1
    if span > target and not override_reason:
        raise StateConflictError(
            "upper_member_id",
            f"the span of this {TIER_NAMES[upper.tier]} is full ({span - 1} of {target}); "
            "give an override reason to exceed it",
        )
    reason = override_reason if span > target else None
    streams: dict[UUID, list[DomainEvent]] = {lower.member_id: [], upper.member_id: []}
    if relink_from is not None:
        streams[lower.member_id].append(
            ev.MemberUnassigned(
                member_id=lower.member_id,
                upper_member_id=relink_from.member_id,
                unassigned_on=on,
                reason="relinked",
            )
        )
        streams[relink_from.member_id] = [
            ev.LowerMemberRemoved(
                member_id=relink_from.member_id,
                lower_member_id=lower.member_id,
                span=len(relink_from.lower_member_ids - {lower.member_id}),
            )
        ]
    streams[lower.member_id].append(
        ev.MemberAssigned(
            member_id=lower.member_id,
            upper_member_id=upper.member_id,
            tier=lower.tier,
            assigned_on=on,
            span_override_reason=reason,
        )
    )
    streams[upper.member_id].append(
        ev.LowerMemberAdded(
            member_id=upper.member_id,
            lower_member_id=lower.member_id,
            span=span,
            span_target=target,
            span_override_reason=reason,
        )
    )
    return streams


def decide_unlink(
    lower: Member, upper: Member, on: date, reason: ev.UnassignReason
) -> dict[UUID, list[DomainEvent]]:
    """End the link between ``lower`` and its upper member ``upper``."""
    return {
        lower.member_id: [
            ev.MemberUnassigned(
                member_id=lower.member_id,
                upper_member_id=upper.member_id,
                unassigned_on=on,
                reason=reason,
            )
        ],
        upper.member_id: [
            ev.LowerMemberRemoved(
                member_id=upper.member_id,
                lower_member_id=lower.member_id,
                span=len(upper.lower_member_ids - {lower.member_id}),
            )
        ],
    }


def end_all_links(
    member: Member,
    upper: Member | None,
    lowers: Iterable[Member],
    on: date,
    own_reason: ev.UnassignReason,
    lower_reason: ev.UnassignReason,
) -> dict[UUID, list[DomainEvent]]:
    """Events that end every link of ``member`` (before it departs or changes tier).

    Its lower members are left unlinked, visibly: each gets a ``MemberUnassigned``.
    """
    streams: dict[UUID, list[DomainEvent]] = {member.member_id: []}
    if upper is not None:
        streams.update(decide_unlink(member, upper, on, own_reason))
    for lower in lowers:
        streams[lower.member_id] = [
            ev.MemberUnassigned(
                member_id=lower.member_id,
                upper_member_id=member.member_id,
                unassigned_on=on,
                reason=lower_reason,
            )
        ]
    return streams
