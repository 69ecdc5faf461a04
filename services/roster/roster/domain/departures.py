"""A member leaving their place in the tree: a tier change, a departure, being forgotten.

Each ends every link of the member; their lower members are left unlinked, visibly. A tier
change or departure is dated by whoever records it, so it may not end a link before the link
started nor on or before the latest contact logged on it (see :mod:`roster.domain.links`);
being forgotten is dated today by the system, and always goes through.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from eventspine.errors import NotFoundError, StateConflictError
from eventspine.events import DomainEvent
from roster import commands as cmd
from roster import events as ev
from roster.domain.links import (
    LatestContacts,
    end_all_links,
    in_stream_order,
    require_links_may_end,
)
from roster.domain.members import Member, effective_date, require_active


def decide_change_tier(
    member: Member | None,
    upper: Member | None,
    lowers: Iterable[Member],
    command: cmd.ChangeTier,
    today: date,
    latest: LatestContacts,
) -> list[DomainEvent]:
    """Move an active member to another tier, from a day not in the future; their links
    (to ``upper`` and ``lowers``) end, on a day none of them started after and none has a
    contact (``latest``) on or after."""
    member = require_active(member, "member_id")
    if member.tier == command.tier:
        raise StateConflictError(
            "tier",
            f"the member is already at tier {command.tier}",
            code="tier_unchanged",
            tier=command.tier,
        )
    on = effective_date(command.changed_on, today, "changed_on")
    lowers = list(lowers)
    require_links_may_end(member, lowers, on, latest, "changed_on")
    changes = end_all_links(member, upper, lowers, on, "tier_changed", "tier_changed")
    changes[member.member_id].append(
        ev.MemberTierChanged(
            member_id=member.member_id, from_tier=member.tier, to_tier=command.tier, changed_on=on
        )
    )
    return in_stream_order(changes)


def _departure(
    member: Member,
    upper: Member | None,
    lowers: Iterable[Member],
    on: date,
    reason: str | None,
    *then: DomainEvent,
) -> list[DomainEvent]:
    changes = end_all_links(member, upper, lowers, on, "departed", "upper_departed")
    changes[member.member_id].extend(
        [ev.MemberDeparted(member_id=member.member_id, departed_on=on, reason=reason), *then]
    )
    released = ev.ExternalNumberReleased(
        unit_id=member.unit_id, member_id=member.member_id, number_index=member.number_index
    )
    return [*in_stream_order(changes), released]


def decide_depart_member(
    member: Member | None,
    upper: Member | None,
    lowers: Iterable[Member],
    command: cmd.DepartMember,
    today: date,
    latest: LatestContacts,
) -> list[DomainEvent]:
    """An active member leaves, on a day not in the future: their links (to ``upper`` and
    ``lowers``) end and their external number is free again in their unit. None of those
    links may have started after that day or have a contact (``latest``) on or after it."""
    member = require_active(member, "member_id")
    on = effective_date(command.departed_on, today, "departed_on")
    lowers = list(lowers)
    require_links_may_end(member, lowers, on, latest, "departed_on")
    return _departure(member, upper, lowers, on, command.reason)


def decide_forget_member(
    member: Member | None, upper: Member | None, lowers: Iterable[Member], today: date
) -> list[DomainEvent]:
    """Forget a member not forgotten yet; one still active departs today first. (The handler
    destroys their key once this is stored.) Never refused over the links' contacts: the
    system dates it today, so only a contact logged today on one of the links stops counting."""
    if member is None:
        raise NotFoundError("member_id", "no such member", code="member_not_found")
    if member.status == "forgotten":
        raise StateConflictError(
            "member_id", "the member was already forgotten", code="already_forgotten"
        )
    forgotten = ev.MemberForgotten(member_id=member.member_id)
    if member.active:
        return _departure(member, upper, lowers, today, "forgotten", forgotten)
    return [forgotten]
