"""The history page's words: events by name, their data as labelled fields, people by name.

The audit answers events as recorded (``sanlian.roster.MemberRegistered.v1`` with its data);
staff read "登记成员" and "联系对象：王芳". Personal data is sealed in events: it shows as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from web.frontend.i18n import N_, Language
from web.frontend.labels import CATEGORY_LABELS, METHOD_LABELS, TIER_LABELS, UNIT_KIND_LABELS

EVENT_LABELS = {
    "UnitRegistered": N_("Union organisation registered"),
    "UnitRenamed": N_("Union organisation renamed"),
    "UnitClosed": N_("Union organisation closed"),
    "MemberRegistered": N_("Member registered"),
    "MemberDetailsChanged": N_("Member's details changed"),
    "MemberTierChanged": N_("Member's tier changed"),
    "MemberMoved": N_("Member moved to another unit"),
    "MemberDeparted": N_("Member departed"),
    "MemberForgotten": N_("Member forgotten"),
    "MemberAssigned": N_("Member linked"),
    "MemberUnassigned": N_("Member unlinked"),
    "LowerMemberAdded": N_("Lower member added"),
    "LowerMemberRemoved": N_("Lower member removed"),
    "ExternalNumberClaimed": N_("External number taken"),
    "ExternalNumberReleased": N_("External number released"),
    "SpanPolicyChanged": N_("Target spans changed"),
    "AccountDisabled": N_("Account disabled"),
    "AccountPasswordChanged": N_("Account password changed"),
    "ContactMade": N_("Contact logged"),
    "ContactCorrected": N_("Contact corrected"),
    "ContactRetracted": N_("Contact withdrawn"),
    "SuggestionRaised": N_("Suggestion raised"),
    "SuggestionAcknowledged": N_("Suggestion acknowledged"),
    "SuggestionEscalated": N_("Suggestion passed up"),
    "SuggestionAnswered": N_("Suggestion answered"),
    "SuggestionAssigned": N_("Suggestion assigned to a department"),
    "SuggestionResolved": N_("Suggestion resolved"),
    "SuggestionClosed": N_("Suggestion closed"),
    "SuggestionReopened": N_("Suggestion reopened"),
    "HandbookPublished": N_("Handbook published"),
}
FIELD_LABELS = {
    "member_id": N_("Member"),
    "unit_id": N_("Unit"),
    "from_unit_id": N_("From unit"),
    "to_unit_id": N_("To unit"),
    "parent_unit_id": N_("Parent unit"),
    "upper_member_id": N_("Upper member"),
    "lower_member_id": N_("Lower member"),
    "holder_id": N_("Held by"),
    "from_holder_id": N_("Held before by"),
    "to_holder_id": N_("Now held by"),
    "raised_by": N_("Raised by"),
    "on_behalf_of": N_("On behalf of"),
    "acknowledged_by": N_("Acknowledged by"),
    "answered_by": N_("Answered by"),
    "assigned_by": N_("Assigned by"),
    "escalated_by": N_("Passed up by"),
    "resolved_by": N_("Resolved by"),
    "closed_by": N_("Closed by"),
    "reopened_by": N_("Reopened by"),
    "tier": N_("Tier"),
    "from_tier": N_("From tier"),
    "to_tier": N_("To tier"),
    "holder_tier": N_("Tier of the holder"),
    "to_holder_tier": N_("Tier of the new holder"),
    "kind": N_("Kind"),
    "name": N_("Name"),
    "personal_data": N_("Personal data"),
    "registered_on": N_("Registered on"),
    "assigned_on": N_("Linked on"),
    "unassigned_on": N_("Link ended on"),
    "departed_on": N_("Departed on"),
    "moved_on": N_("Moved on"),
    "changed_on": N_("Changed on"),
    "changed_at": N_("Changed at"),
    "disabled_at": N_("Disabled at"),
    "contacted_on": N_("Date"),
    "method": N_("How"),
    "initiated_by": N_("Initiated by"),
    "topics": N_("Topics"),
    "note": N_("Note"),
    "text": N_("Text"),
    "answer": N_("Answer"),
    "outcome": N_("Outcome"),
    "reason": N_("Reason"),
    "span_override_reason": N_("Reason for exceeding the span"),
    "category": N_("Category"),
    "channel": N_("Channel"),
    "department": N_("Department"),
    "level": N_("Level"),
    "missed": N_("Deadline missed"),
    "span": N_("Span"),
    "span_target": N_("Target span"),
    "leader": N_("Leadership member"),
    "committee": N_("Committee member"),
    "representative": N_("Representative"),
    "account_id": N_("Account"),
    "link_id": N_("Link"),
    "contact_id": N_("Contact"),
    "meeting_id": N_("Meeting"),
    "suggestion_id": N_("Suggestion"),
    "version": N_("Version"),
}
MEMBER_FIELDS = frozenset(
    k for k in FIELD_LABELS if k.endswith(("member_id", "_by", "holder_id")) or k == "on_behalf_of"
) - {"initiated_by"}
UNIT_FIELDS = frozenset(k for k in FIELD_LABELS if k.endswith("unit_id"))
TIER_FIELDS = frozenset({"tier", "from_tier", "to_tier", "holder_tier", "to_holder_tier"})
DAY_FIELDS = frozenset(k for k in FIELD_LABELS if k.endswith("_on"))
MOMENT_FIELDS = frozenset({"changed_at", "disabled_at"})
SEALED = N_("(sealed personal data)")


@dataclass(frozen=True)
class Field:
    """One labelled value of an event's data; ``member_id`` when it names a member."""

    label: str
    value: str
    member_id: str | None = None


def event_name(lang: Language, event_type: str) -> str:
    """``sanlian.roster.MemberRegistered.v1`` as the page says it (``登记成员``)."""
    parts = event_type.split(".")
    name = parts[2] if len(parts) >= 3 else event_type
    return lang.gettext(EVENT_LABELS[name]) if name in EVENT_LABELS else name


def _sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("v1.") and len(value) > 24


def fields(
    lang: Language,
    data: Mapping[str, Any],
    people: Mapping[str, Mapping[str, Any]],
    units: Mapping[str, str],
    accounts: Mapping[str, str],
) -> list[Field]:
    """The event's data as labelled fields, in the order recorded."""
    out: list[Field] = []
    for key, value in data.items():
        if value is None or value == [] or key == "number_index":
            continue
        label = lang.gettext(FIELD_LABELS[key]) if key in FIELD_LABELS else key
        out.append(Field(label, *_value(lang, key, value, people, units, accounts)))
    return out


def _value(
    lang: Language,
    key: str,
    value: Any,
    people: Mapping[str, Mapping[str, Any]],
    units: Mapping[str, str],
    accounts: Mapping[str, str],
) -> tuple[str, str | None]:
    text = str(value)
    if _sealed(value):
        return lang.gettext(SEALED), None
    if key in MEMBER_FIELDS:
        return str((people.get(text) or {}).get("name") or text), text
    if key in UNIT_FIELDS:
        return units.get(text, text), None
    if key == "account_id":
        return accounts.get(text, text), None
    if key in TIER_FIELDS and text in TIER_LABELS:
        return lang.gettext(TIER_LABELS[text]), None
    if key == "kind" and text in UNIT_KIND_LABELS:
        return lang.gettext(UNIT_KIND_LABELS[text]), None
    if key in ("method", "channel") and text in METHOD_LABELS:
        return lang.gettext(METHOD_LABELS[text]), None
    if key == "category" and text in CATEGORY_LABELS:
        return lang.gettext(CATEGORY_LABELS[text]), None
    if key in DAY_FIELDS:
        return lang.date(text), None
    if key in MOMENT_FIELDS:
        return lang.datetime(text), None
    if isinstance(value, list):
        return lang.gettext(N_(", ")).join(str(v) for v in value), None
    return text, None


def member_ids(data: Mapping[str, Any]) -> list[str]:
    """The members an event's data names (to look their names up)."""
    return [str(v) for k, v in data.items() if k in MEMBER_FIELDS and _uuid(v)]


def _uuid(value: Any) -> bool:
    try:
        UUID(str(value))
    except ValueError:
        return False
    return True


def actor_name(
    lang: Language,
    actor: str | None,
    people: Mapping[str, Mapping[str, Any]],
    accounts: Mapping[str, str],
    member: str | None,
    account: str | None,
) -> str:
    """Who acted: the member's name, else the account's username, else (for a reader who may
    not list accounts) the account by the start of its id, else the actor as recorded (a
    service's own job)."""
    if member and (people.get(member) or {}).get("name"):
        return str(people[member]["name"])
    if account and account in accounts:
        return accounts[account]
    if account:
        return lang.gettext(N_("account %(id)s")) % {"id": account[:8]}
    return actor or "—"
