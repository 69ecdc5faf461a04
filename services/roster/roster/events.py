"""Events of the roster service: units, members, links, span policy and account revocations.

The models are the roster topic's published contract, :mod:`contracts.roster`; this module is
the roster's own name for them (its catalogue is the ``sanlian.events`` entry point).
"""

from contracts.roster import (
    CATALOGUE,
    AccountDisabled,
    AccountPasswordChanged,
    ExternalNumberClaimed,
    ExternalNumberReleased,
    HandbookPublished,
    LowerMemberAdded,
    LowerMemberRemoved,
    MemberAssigned,
    MemberDeparted,
    MemberDetailsChanged,
    MemberForgotten,
    MemberMoved,
    MemberPhoneIndexed,
    MemberRegistered,
    MemberTierChanged,
    MemberUnassigned,
    SpanPolicyChanged,
    Tier,
    UnassignReason,
    UnitClosed,
    UnitKind,
    UnitRegistered,
    UnitRenamed,
)

__all__ = [
    "CATALOGUE",
    "AccountDisabled",
    "AccountPasswordChanged",
    "ExternalNumberClaimed",
    "ExternalNumberReleased",
    "HandbookPublished",
    "LowerMemberAdded",
    "LowerMemberRemoved",
    "MemberAssigned",
    "MemberDeparted",
    "MemberDetailsChanged",
    "MemberForgotten",
    "MemberMoved",
    "MemberPhoneIndexed",
    "MemberRegistered",
    "MemberTierChanged",
    "MemberUnassigned",
    "SpanPolicyChanged",
    "Tier",
    "UnassignReason",
    "UnitClosed",
    "UnitKind",
    "UnitRegistered",
    "UnitRenamed",
]
