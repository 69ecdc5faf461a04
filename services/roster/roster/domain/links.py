"""Links: an upper member keeps in contact with lower members of the tier directly below,
about as many as the span policy's target for their tier.

A link is active from the day it starts up to, not including, the day it ends (that day is the
next link's, if any), and a contact counts on the link it was logged on only within those
days. So a change that ends a link may not be dated before the link started, nor on or before
the latest contact logged on it: either would leave the link's contacts on no link at all.
The contacts are the contacts service's; the roster's handlers read them from its replica
(:mod:`roster.contact_dates`) and pass the facts in (:data:`LatestContacts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventspine.errors import NotFoundError, StateConflictError
from eventspine.events import DomainEvent
from roster import commands as cmd
from roster import events as ev
from roster.domain.members import Member, effective_date, require_active
from roster.events import Tier

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

LatestContacts = Mapping[UUID, date]
"""The day of the latest contact logged (and not retracted) on each current link, keyed by the
link's lower member (a member has one upper member at a time); links without one are absent."""


class LinkChangeBeforeStartError(StateConflictError):
    """A change would end a link before the day it started."""

    code = "link_change_before_start"


class LinkChangeBeforeContactError(StateConflictError):
    """A change would end a link on or before a contact logged on it, which then counts on no
    link."""

    code = "link_change_before_contact"


def require_link_may_end(
    lower: Member, on: date, latest: LatestContacts, field_name: str, *, whose: str = ""
) -> None:
    """Refuse (409, naming ``field_name``) to end ``lower``'s current link on ``on`` when that
    is before the link started or on/before the latest contact logged on it (``latest``).

    ``whose`` names the link in the reason when the change is not about ``lower`` itself
    (a lower member's link, ended by their upper member's departure)."""
    link = f"the link {whose}" if whose else "the current link"
    started = lower.linked_on
    if started is not None and on < started:
        raise LinkChangeBeforeStartError(
            field_name,
            f"{on.isoformat()} is before {link} started on {started.isoformat()}; "
            "a link cannot end before it started",
            date=on.isoformat(),
            started_on=started.isoformat(),
        )
    contact = latest.get(lower.member_id)
    if contact is not None and on <= contact:
        raise LinkChangeBeforeContactError(
            field_name,
            f"a contact on {contact.isoformat()} was logged on {link}; a link ending on "
            f"{on.isoformat()} would leave it on no link (its end day is not one of its days). "
            f"Date the change after {contact.isoformat()}, or correct or retract the contact",
            date=on.isoformat(),
            contacted_on=contact.isoformat(),
        )


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


def in_stream_order(streams: Mapping[UUID, list[DomainEvent]]) -> list[DomainEvent]:
    """The events of ``streams`` one member's stream after another."""
    return [event for events in streams.values() for event in events]


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
        raise StateConflictError(
            "lower_member_id", "a member cannot keep in contact with themself", code="self_link"
        )
    expected_upper = TIER_ABOVE.get(lower.tier)
    if expected_upper != upper.tier:
        wanted = f"a {TIER_NAMES[expected_upper]}" if expected_upper else "nobody (top tier)"
        raise StateConflictError(
            "upper_member_id",
            f"a {TIER_NAMES[lower.tier]} is linked under {wanted}, not a {TIER_NAMES[upper.tier]}",
            code="tier_mismatch",
            lower_tier=lower.tier,
            upper_tier=upper.tier,
            expected_tier=expected_upper,
        )
    if relink_from is None and lower.upper_member_id is not None:
        raise StateConflictError(
            "lower_member_id",
            f"the member is already linked to {lower.upper_member_id}; relink instead",
            code="already_linked",
        )
    if relink_from is not None and lower.upper_member_id == upper.member_id:
        raise StateConflictError(
            "upper_member_id",
            "the member is already linked to this member",
            code="already_linked_here",
        )
    target = policy.target(upper.tier)
    span = len(upper.lower_member_ids) + 1
    if span > target and not override_reason:
        raise StateConflictError(
            "upper_member_id",
            f"the span of this {TIER_NAMES[upper.tier]} is full ({span - 1} of {target}); "
            "give an override reason to exceed it",
            code="span_full",
            tier=upper.tier,
            span=span - 1,
            limit=target,
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


def require_links_may_end(
    member: Member, lowers: Iterable[Member], on: date, latest: LatestContacts, field_name: str
) -> None:
    """Refuse to end every link of ``member`` (its own, and those of its ``lowers``) on ``on``
    when any of them would end before it started or on/before its latest contact.

    The reason names the link that started last, or else the latest contact: the day after it
    is the earliest the change could be dated."""
    links = [(member, "")] if member.upper_member_id is not None else []
    links += [(lower, f"with lower member {lower.member_id}") for lower in lowers]

    def started(link: tuple[Member, str]) -> date:
        return link[0].linked_on or date.min

    def contacted(link: tuple[Member, str]) -> date:
        return latest.get(link[0].member_id, date.min)

    for lower, whose in sorted(links, key=started, reverse=True):
        require_link_may_end(lower, on, {}, field_name, whose=whose)
    for lower, whose in sorted(links, key=contacted, reverse=True):
        require_link_may_end(lower, on, latest, field_name, whose=whose)


def decide_link_member(
    lower: Member | None,
    upper: Member | None,
    policy: SpanPolicy,
    command: cmd.LinkMember,
    today: date,
) -> list[DomainEvent]:
    """Link an unlinked lower member under an upper member (see :func:`decide_link`), from a
    day not in the future."""
    on = effective_date(command.assigned_on, today, "assigned_on")
    return in_stream_order(decide_link(lower, upper, policy, on, command.span_override_reason))


def decide_unlink_member(
    lower: Member | None,
    upper: Member | None,
    command: cmd.UnlinkMember,
    today: date,
    latest: LatestContacts,
) -> list[DomainEvent]:
    """End an active lower member's link to ``upper``, their upper member; they are left
    unlinked. The end day may not be before the link started nor on or before the latest
    contact logged on it (``latest``)."""
    on = effective_date(command.unassigned_on, today, "unassigned_on")
    lower = require_active(lower, "lower_member_id")
    if lower.upper_member_id is None:
        raise StateConflictError("lower_member_id", "the member is not linked", code="not_linked")
    if upper is None:
        raise NotFoundError(
            "lower_member_id", "the upper member is unknown", code="member_not_found"
        )
    require_link_may_end(lower, on, latest, "unassigned_on")
    return in_stream_order(decide_unlink(lower, upper, on, "unlinked"))


def decide_relink_member(
    lower: Member | None,
    upper: Member | None,
    previous: Member | None,
    policy: SpanPolicy,
    command: cmd.RelinkMember,
    today: date,
    latest: LatestContacts,
) -> list[DomainEvent]:
    """Move a linked lower member from ``previous``, their upper member, to ``upper`` in one
    step (see :func:`decide_link`). The day of the move ends the current link: it may not be
    before that link started nor on or before the latest contact logged on it (``latest``)."""
    on = effective_date(command.assigned_on, today, "assigned_on")
    lower = require_active(lower, "lower_member_id")
    if lower.upper_member_id is None:
        raise StateConflictError(
            "lower_member_id", "the member is not linked; link instead", code="not_linked"
        )
    changes = decide_link(
        lower, upper, policy, on, command.span_override_reason, relink_from=previous
    )
    require_link_may_end(lower, on, latest, "assigned_on")
    return in_stream_order(changes)


def decide_change_span_policy(command: cmd.ChangeSpanPolicy) -> list[DomainEvent]:
    """New target spans (any, within the command's bounds), with the reason for them."""
    return [
        ev.SpanPolicyChanged(
            leader=command.leader,
            committee=command.committee,
            representative=command.representative,
            reason=command.reason,
        )
    ]
