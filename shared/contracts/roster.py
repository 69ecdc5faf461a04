"""Events of the roster service: units, members and the 1:5:5:10 contact tree.

Names and versions are part of the public contract on ``sanlian.roster.events``: a change of
shape is a new version with an upcaster, never an edit. Members are referred to by id only.
Personal data travels sealed (``personal_data``: AES-GCM under the member's own key, see
``eventspine.crypto``); ``number_index`` is a keyed hash of the external number within its unit,
so uniqueness can be checked without the number in clear.

A link touches two streams: the lower member's (``MemberAssigned``/``MemberUnassigned``: one
upper member at a time) and the upper member's (``LowerMemberAdded``/``LowerMemberRemoved``:
its span). One append covers both, so both invariants are checked in one transaction.

Accounts live in a table beside the store (credentials are not history), but disabling one or
changing its password is also an event on the account's stream (``account-<id>``): that is
how every service learns to refuse the tokens issued before it.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from eventspine.crypto import blind_index
from eventspine.events import DomainEvent, EventCatalogue

Tier = Literal["leader", "committee", "representative", "worker"]
UnitKind = Literal["city_federation", "county_union", "enterprise_union"]
UnassignReason = Literal["unlinked", "relinked", "upper_departed", "departed", "tier_changed"]

SEALED = Field(description="personal data sealed with the member's key (v1.<base64>)")
NUMBER_INDEX = Field(pattern=r"^[0-9a-f]{64}$", description="keyed hash of (unit, external number)")


UNIT_CODE = r"^\S{1,40}$"
"""A unit's code: the short key import files and pages use for it (``YQ``, ``YQ-PD``)."""


class UnitRegisteredV1(DomainEvent):
    """A union organisation joined the tree (city federation, county union, enterprise union)."""

    # Version 1, without a code: its docstring is its committed schema's description.

    event_type = "UnitRegistered"
    event_version = 1

    unit_id: UUID
    name: str = Field(min_length=1, max_length=200, description="public name of the union")
    kind: UnitKind
    parent_unit_id: UUID | None = Field(None, description="None only for the city federation")


class UnitRegistered(DomainEvent):
    """A union organisation joined the tree (city federation, county union, enterprise union),
    with the code import files and pages know it by, when it has one."""

    event_type = "UnitRegistered"
    event_version = 2

    unit_id: UUID
    name: str = Field(min_length=1, max_length=200, description="public name of the union")
    kind: UnitKind
    parent_unit_id: UUID | None = Field(None, description="None only for the city federation")
    code: str | None = Field(
        None,
        pattern=UNIT_CODE,
        description="the unit's code; its id is then the one import files derive from the code",
    )


def _unit_registered_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # Units registered before codes were recorded have none (an imported unit's code is not
    # recoverable from its id, which is a hash of it).
    return {**data, "code": None}


class UnitRenamed(DomainEvent):
    """A union organisation changed its name."""

    event_type = "UnitRenamed"
    event_version = 1

    unit_id: UUID
    name: str = Field(min_length=1, max_length=200)


class UnitClosed(DomainEvent):
    """A union organisation was closed; it takes no new members or sub-units."""

    event_type = "UnitClosed"
    event_version = 1

    unit_id: UUID
    reason: str | None = Field(None, max_length=500)


class MemberRegistered(DomainEvent):
    """A person entered the contact database at a tier, in a unit."""

    event_type = "MemberRegistered"
    event_version = 1

    member_id: UUID
    unit_id: UUID
    tier: Tier
    personal_data: str = SEALED
    number_index: str = NUMBER_INDEX
    registered_on: date


class MemberDetailsChanged(DomainEvent):
    """A member's personal data (name, phone, WeChat id) was corrected or updated."""

    event_type = "MemberDetailsChanged"
    event_version = 1

    member_id: UUID
    personal_data: str = SEALED


class MemberTierChanged(DomainEvent):
    """A member changed tier (for example a worker elected representative)."""

    event_type = "MemberTierChanged"
    event_version = 1

    member_id: UUID
    from_tier: Tier
    to_tier: Tier
    changed_on: date


class MemberMoved(DomainEvent):
    """A member moved to another union organisation."""

    event_type = "MemberMoved"
    event_version = 1

    member_id: UUID
    from_unit_id: UUID
    to_unit_id: UUID
    number_index: str = NUMBER_INDEX
    moved_on: date


class MemberDeparted(DomainEvent):
    """A member left the contact system; all of their links ended with it."""

    event_type = "MemberDeparted"
    event_version = 1

    member_id: UUID
    departed_on: date
    reason: str | None = Field(None, max_length=500)


class MemberForgotten(DomainEvent):
    """The member's key was destroyed: their personal data can never be read again."""

    event_type = "MemberForgotten"
    event_version = 1

    member_id: UUID


class ExternalNumberClaimed(DomainEvent):
    """An external number (employee or membership number) is taken within a unit."""

    event_type = "ExternalNumberClaimed"
    event_version = 1

    unit_id: UUID
    member_id: UUID
    number_index: str = NUMBER_INDEX


class ExternalNumberReleased(DomainEvent):
    """An external number is free again within a unit (its holder moved, departed)."""

    event_type = "ExternalNumberReleased"
    event_version = 1

    unit_id: UUID
    member_id: UUID
    number_index: str = NUMBER_INDEX


class MemberAssigned(DomainEvent):
    """An upper member now keeps in contact with a lower member of the next tier down."""

    event_type = "MemberAssigned"
    event_version = 1

    member_id: UUID = Field(description="the lower member")
    upper_member_id: UUID
    tier: Tier = Field(description="the lower member's tier")
    assigned_on: date
    span_override_reason: str | None = Field(
        None, max_length=500, description="why the upper member's span may be exceeded"
    )


class MemberUnassigned(DomainEvent):
    """A lower member's link to their upper member ended."""

    event_type = "MemberUnassigned"
    event_version = 1

    member_id: UUID = Field(description="the lower member")
    upper_member_id: UUID
    unassigned_on: date
    reason: UnassignReason


class LowerMemberAdded(DomainEvent):
    """The upper member's span grew by one lower member."""

    event_type = "LowerMemberAdded"
    event_version = 1

    member_id: UUID = Field(description="the upper member")
    lower_member_id: UUID
    span: int = Field(ge=1, description="lower members held after this link")
    span_target: int = Field(ge=1)
    span_override_reason: str | None = Field(None, max_length=500)


class LowerMemberRemoved(DomainEvent):
    """The upper member's span shrank by one lower member."""

    event_type = "LowerMemberRemoved"
    event_version = 1

    member_id: UUID = Field(description="the upper member")
    lower_member_id: UUID
    span: int = Field(ge=0, description="lower members held after this change")


class SpanPolicyChanged(DomainEvent):
    """The target spans changed (how many lower members each tier keeps in contact with)."""

    event_type = "SpanPolicyChanged"
    event_version = 1

    leader: int = Field(ge=1, le=1000, description="committee members per leader")
    committee: int = Field(ge=1, le=1000, description="representatives per committee member")
    representative: int = Field(ge=1, le=1000, description="workers per representative")
    reason: str = Field(min_length=1, max_length=500)


class MemberPhoneIndexed(DomainEvent):
    """The keyed hash of a member's phone (:func:`phone_index`) as it now stands, so that a
    worker who gives their phone on an intake page can be matched to their record without the
    phone in clear. Null: the member has no phone on record any more."""

    event_type = "MemberPhoneIndexed"
    event_version = 1

    member_id: UUID
    phone_index: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="keyed hash of the normalised phone"
    )


def phone_index(secret: bytes, phone: str) -> str | None:
    """The blind index of a phone number as every service computes it: digits only, without
    a leading +86/0086 (None when no digits are left). Keyed with ``SANLIAN_INDEX_SECRET``."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone) if ch.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
    return blind_index(secret, "phone", digits) if digits else None


class AccountDisabled(DomainEvent):
    """An account may no longer sign in; every token issued to it until now is refused.

    Credentials stay in the roster's account table; the event names the account by id only
    (no username), so the other services can refuse its tokens from their own replicas.
    """

    event_type = "AccountDisabled"
    event_version = 1

    account_id: UUID
    disabled_at: datetime = Field(description="tokens issued at or before this moment are refused")


class AccountPasswordChanged(DomainEvent):
    """An account's password was replaced; tokens issued until now are refused (a new
    sign-in gets a token that works)."""

    event_type = "AccountPasswordChanged"
    event_version = 1

    account_id: UUID
    changed_at: datetime = Field(description="tokens issued at or before this moment are refused")


class HandbookPublished(DomainEvent):
    """A new version of the federation's handbook (《工会代表联系职工群众工作手册》): its whole
    text, in Markdown, as every committee member and representative is to receive it. It
    holds no personal data: it is the federation's own policy text."""

    event_type = "HandbookPublished"
    event_version = 1

    version: int = Field(ge=1, description="1 for the first text, one more for each after it")
    text: str = Field(min_length=1, max_length=50_000, description="the handbook, in Markdown")
    note: str | None = Field(None, max_length=500, description="what changed, in a sentence")


CATALOGUE = EventCatalogue(
    [
        UnitRegisteredV1,
        UnitRegistered,
        UnitRenamed,
        UnitClosed,
        MemberRegistered,
        MemberDetailsChanged,
        MemberTierChanged,
        MemberMoved,
        MemberDeparted,
        MemberForgotten,
        ExternalNumberClaimed,
        ExternalNumberReleased,
        MemberAssigned,
        MemberUnassigned,
        LowerMemberAdded,
        LowerMemberRemoved,
        SpanPolicyChanged,
        AccountDisabled,
        AccountPasswordChanged,
        MemberPhoneIndexed,
        HandbookPublished,
    ],
    upcasters={("UnitRegistered", 1): _unit_registered_v1_to_v2},
)
