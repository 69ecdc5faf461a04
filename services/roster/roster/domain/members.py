"""Members: who they are (sealed), where they belong, and the number that names them there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal
from uuid import UUID

from eventspine.errors import NotFoundError, StateConflictError
from eventspine.events import DomainEvent
from roster import commands as cmd
from roster import events as ev
from roster.domain.units import Unit, require_unit
from roster.events import Tier

Status = Literal["active", "departed", "forgotten"]
PersonalData = dict[str, str | None]
NUMBER_TAKEN = "this number is already used by a member of the unit"


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
    linked_on: date | None = None
    """The day the member's current link to their upper member started (``None``: unlinked)."""

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
                state,
                tier=event.to_tier,
                upper_member_id=None,
                lower_member_ids=frozenset(),
                linked_on=None,
            )
        case ev.MemberMoved():
            return replace(state, unit_id=event.to_unit_id, number_index=event.number_index)
        case ev.MemberDeparted():
            return replace(
                state,
                status="departed",
                upper_member_id=None,
                lower_member_ids=frozenset(),
                linked_on=None,
            )
        case ev.MemberForgotten():
            return replace(state, status="forgotten")
        case ev.MemberAssigned():
            return replace(
                state, upper_member_id=event.upper_member_id, linked_on=event.assigned_on
            )
        case ev.MemberUnassigned():
            return replace(state, upper_member_id=None, linked_on=None)
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


@dataclass(frozen=True)
class Sealing:
    """A decision that stores personal data: the data to seal for ``member_id`` and the
    events to append around its sealed text. The data is sealed only once the command is
    accepted, so a refused command leaves no key behind."""

    member_id: UUID
    personal_data: PersonalData
    events: Callable[[str], list[DomainEvent]]


def effective_date(given: date | None, today: date, field_name: str) -> date:
    """The date a change takes effect: ``given``, or ``today`` when left out; never later
    than ``today``."""
    if given is None:
        return today
    if given > today:
        raise StateConflictError(
            field_name,
            "is in the future",
            code="date_in_future",
            date=given.isoformat(),
            today=today.isoformat(),
        )
    return given


def require_active(member: Member | None, field_name: str) -> Member:
    """The member, or a 404/409 naming ``field_name``."""
    if member is None:
        raise NotFoundError(field_name, "no such member", code="member_not_found")
    if not member.active:
        raise StateConflictError(
            field_name,
            f"the member has {member.status}",
            code="member_not_active",
            status=member.status,
        )
    return member


def require_readable(personal_data: PersonalData | None) -> PersonalData:
    """A member's unsealed data, or a 409 when their key is gone."""
    if personal_data is None:
        raise StateConflictError("member_id", "the member was forgotten", code="member_forgotten")
    return personal_data


def decide_register_member(
    unit: Unit | None,
    existing: Member | None,
    claim: NumberClaim,
    command: cmd.RegisterMember,
    number_index: str,
    today: date,
) -> Sealing:
    """Enter a new member in an open unit, on a day not in the future, under an external
    number nobody in the unit holds (``claim``, the claim on ``number_index``)."""
    require_unit(unit, "unit_id")
    if existing is not None:
        raise StateConflictError("member_id", "a member with this id exists", code="member_exists")
    on = effective_date(command.registered_on, today, "registered_on")
    if claim.member_id is not None:
        raise StateConflictError("external_number", NUMBER_TAKEN, code="external_number_taken")

    def events(sealed: str) -> list[DomainEvent]:
        return [
            ev.MemberRegistered(
                member_id=command.member_id,
                unit_id=command.unit_id,
                tier=command.tier,
                personal_data=sealed,
                number_index=number_index,
                registered_on=on,
            ),
            ev.ExternalNumberClaimed(
                unit_id=command.unit_id, member_id=command.member_id, number_index=number_index
            ),
        ]

    personal_data: PersonalData = {
        "name": command.name,
        "phone": command.phone,
        "wechat_id": command.wechat_id,
        "external_number": command.external_number,
    }
    return Sealing(command.member_id, personal_data, events)


def decide_change_details(
    member: Member | None, current: PersonalData | None, command: cmd.ChangeDetails
) -> Sealing:
    """Replace an active member's name, phone and WeChat id (``current``: their data now,
    unsealed); the external number stays."""
    member = require_active(member, "member_id")
    personal_data: PersonalData = {
        **require_readable(current),
        "name": command.name,
        "phone": command.phone,
        "wechat_id": command.wechat_id,
    }
    member_id = member.member_id

    def events(sealed: str) -> list[DomainEvent]:
        return [ev.MemberDetailsChanged(member_id=member_id, personal_data=sealed)]

    return Sealing(member_id, personal_data, events)


def decide_move_member(
    member: Member | None,
    target: Unit | None,
    current: PersonalData | None,
    claim: NumberClaim,
    number_index: str,
    command: cmd.MoveMember,
    today: date,
) -> list[DomainEvent]:
    """Move an active member to another open unit, where their external number (``current``
    holds it; ``claim`` is the claim on its ``number_index`` there) must be free. Their
    links stay."""
    member = require_active(member, "member_id")
    require_unit(target, "unit_id")
    if member.unit_id == command.unit_id:
        raise StateConflictError(
            "unit_id", "the member is already in this organisation", code="already_in_unit"
        )
    on = effective_date(command.moved_on, today, "moved_on")
    require_readable(current)
    if claim.member_id is not None:
        raise StateConflictError(
            "unit_id",
            "the member's external number is already used in that organisation",
            code="external_number_taken",
        )
    return [
        ev.MemberMoved(
            member_id=member.member_id,
            from_unit_id=member.unit_id,
            to_unit_id=command.unit_id,
            number_index=number_index,
            moved_on=on,
        ),
        ev.ExternalNumberClaimed(
            unit_id=command.unit_id, member_id=member.member_id, number_index=number_index
        ),
        ev.ExternalNumberReleased(
            unit_id=member.unit_id, member_id=member.member_id, number_index=member.number_index
        ),
    ]
