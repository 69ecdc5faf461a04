"""Every refusal a service can answer, by its stable code: the published catalogue.

Each error answer of every service is an RFC 9457 problem document whose ``code`` is one of
these; its ``params`` hold the values named here, and its ``errors`` list the fields at fault,
each with a code of its own (the field codes, :data:`FIELD_CODES`). Integrators branch on the
code, never on the English ``detail``; the frontend turns each code into Chinese (or English)
with the values filled in. A code, once published, keeps its meaning: a new kind of refusal
gets a new code.

Status rule: 422 means the request itself is wrong (the OpenAPI document says so: a pattern, a
length, a missing field); 409 means a well-formed request conflicts with what the system
holds or with today's date (a full span, a date before the link, a name already taken); 404
an unknown thing the path or body names; 401 no valid sign-in; 403 not allowed to do this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    """One kind of refusal: its code, HTTP status, a one-line English title, and the names of
    the values (``params``) its answers carry."""

    code: str
    status: int
    title: str
    params: tuple[str, ...] = ()


def _catalogue(*refusals: Refusal) -> Mapping[str, Refusal]:
    codes = [r.code for r in refusals]
    assert len(codes) == len(set(codes)), "a code is listed twice"
    return {r.code: r for r in refusals}


R = Refusal
REFUSALS: Mapping[str, Refusal] = _catalogue(
    # The request as a whole.
    R("invalid_request", 422, "The request has invalid fields", ("count",)),
    R("malformed_body", 400, "The request body is not valid JSON or form data"),
    R("body_too_large", 413, "The request body is too large", ("max_bytes",)),
    R("route_not_found", 404, "No such address"),
    R("method_not_allowed", 405, "The address does not take this method", ("allowed",)),
    R("unavailable", 503, "The service's database is unavailable; retry shortly"),
    R("replica_behind", 409, "The service has not caught up with the roster yet; retry shortly"),
    R("version_conflict", 409, "Someone changed this at the same time; reload and try again"),
    R("idempotency_conflict", 409, "The Idempotency-Key was used for another stream"),
    R("idempotency_key_reused", 422, "The Idempotency-Key was used for a different request"),
    R("forgotten", 409, "The member was forgotten: their data may not be written again"),
    R("unstorable_text", 422, "Text holds a NUL character or an unpaired surrogate", ("field",)),
    # Signing in and access.
    R("not_signed_in", 401, "Sign in first"),
    R("token_invalid", 401, "The sign-in is not valid"),
    R("token_expired", 401, "The sign-in has expired"),
    R("token_revoked", 401, "The sign-in was ended; sign in again"),
    R("sign_in_failed", 401, "Wrong username or password"),
    R("too_many_attempts", 429, "Too many failed sign-ins; wait and try again", ("retry_after",)),
    R("may_not_read", 403, "This sign-in may not read this service", ("service",)),
    R("read_only_role", 403, "This role reads only; it cannot act", ("role",)),
    R("may_not_act", 403, "This role may not act on this service", ("service", "roles")),
    R("role_required", 403, "Only some roles may do this", ("roles",)),
    R("outside_tree", 403, "This is outside your part of the contact tree"),
    R("member_must_act", 403, "A member of the contact tree must act"),
    R("own_password_only", 403, "You may change only your own password"),
    R("own_links_only", 403, "You may log contacts only on your own links"),
    # Accounts.
    R("account_not_found", 404, "No such account"),
    R("username_taken", 409, "The username is already taken", ("username",)),
    R("own_account", 409, "Another admin must disable your own account"),
    R("last_admin", 409, "The last admin cannot be disabled"),
    R("not_system_client", 409, "Only system clients get issued tokens"),
    R("account_disabled", 409, "The account is disabled"),
    R("current_password_required", 422, "Give the present password to change your own"),
    R("wrong_password", 409, "The present password is not this account's password"),
    R("password_is_username", 422, "The password must differ from the username"),
    R("invalid_password", 422, "The password is not allowed", ("min_length",)),
    R("worker_no_account", 409, "Workers do not sign in; their upper contact acts"),
    R("not_for_system", 409, "System clients sign in with issued tokens only"),
    # Union organisations.
    R("unit_not_found", 404, "No such union organisation"),
    R("unit_exists", 409, "A union organisation with this id exists"),
    R("unit_closed", 409, "The union organisation is closed", ("name",)),
    R("unit_name_unchanged", 409, "The union organisation already has this name"),
    R("unit_code_taken", 409, "A union organisation has this code already"),
    R("unit_code_id_mismatch", 409, "A unit with a code has the id the code gives"),
    R("handbook_version_stale", 409, "A newer version of the handbook was published meanwhile"),
    R("handbook_unchanged", 409, "The handbook already says this"),
    R("parent_not_allowed", 422, "A city federation has no parent organisation"),
    R("parent_required", 422, "This kind of organisation needs a parent", ("kind",)),
    R("parent_kind_wrong", 409, "The parent is of the wrong kind", ("kind", "allowed")),
    # Members.
    R("member_not_found", 404, "No such member"),
    R("member_exists", 409, "A member with this id exists"),
    R("member_not_active", 409, "The member is no longer active", ("status",)),
    R("member_forgotten", 409, "The member was forgotten"),
    R("already_forgotten", 409, "The member was already forgotten"),
    R("external_number_taken", 409, "The member number is already used in this organisation"),
    R("already_in_unit", 409, "The member is already in this organisation"),
    R("tier_unchanged", 409, "The member is already at this tier", ("tier",)),
    R("date_in_future", 409, "The date is in the future", ("date", "today")),
    # Links (结对).
    R("self_link", 409, "A member cannot keep in contact with themself"),
    R(
        "tier_mismatch",
        409,
        "The tiers do not fit a link",
        ("lower_tier", "upper_tier", "expected_tier"),
    ),
    R("already_linked", 409, "The member already has an upper contact; relink instead"),
    R("already_linked_here", 409, "The member is already linked to this member"),
    R("span_full", 409, "The upper member's span is full", ("tier", "span", "limit")),
    R("not_linked", 409, "The member has no upper contact", ()),
    R(
        "link_change_before_start",
        409,
        "A link cannot end before it started",
        ("date", "started_on"),
    ),
    R(
        "link_change_before_contact",
        409,
        "A contact was logged on the link on or after this day",
        ("date", "contacted_on"),
    ),
    # Contacts.
    R("link_not_found", 404, "No such link"),
    R("pair_not_linked", 409, "The two members are not linked"),
    R("link_not_known_yet", 409, "The link is not known here yet; retry shortly"),
    R("before_link", 409, "The date is before the link existed", ("date", "linked_on")),
    R("after_link", 409, "The date is after the link ended", ("date", "ended_on")),
    R("other_link_period", 409, "The new date falls on another link period", ("date",)),
    R("contact_not_found", 404, "No such contact"),
    R("contact_exists", 409, "A contact with this id exists"),
    R("contact_retracted", 409, "The contact was withdrawn"),
    # Suggestions.
    R("suggestion_not_found", 404, "No such suggestion"),
    R("suggestion_exists", 409, "A suggestion with this id exists"),
    R("wrong_status", 409, "The suggestion's status does not allow this", ("status", "allowed")),
    R("at_top", 409, "The suggestion is already at the top of the chain"),
    R("leadership_assigns", 409, "Only a leadership member at the top assigns a department"),
    R("leadership_acts", 403, "The suggestion is with the leadership: a leadership member acts"),
    R("not_holder", 403, "You do not hold this suggestion"),
    R("raiser_only", 403, "Only the member who raised the suggestion may do this"),
    R("actor_not_active", 403, "The acting member is not an active member"),
    R("actor_not_in_roster", 403, "The acting member is not in the roster"),
    R("not_your_worker", 403, "This worker is not yours: you are not their upper contact"),
    R("leadership_inbox", 403, "The federation inbox is for leadership members"),
    # Workers' voice: intake links, follow-up, ratings, departments.
    R("intake_link_invalid", 404, "The link is not valid (forged or mistyped)"),
    R("intake_link_revoked", 409, "The link was revoked"),
    R("intake_link_exists", 409, "A link with this id exists"),
    R("intake_link_not_permitted", 403, "This member may not issue this link"),
    R(
        "intake_revoke_not_permitted",
        403,
        "Only the link's holder or a leadership member revokes it",
    ),
    R("intake_rate_limited", 429, "The link took its limit of suggestions; try later"),
    R("intake_duplicate", 409, "The same suggestion arrived by this link already"),
    R(
        "holder_not_eligible",
        409,
        "The receiving member must be an active representative, committee or leadership member",
    ),
    R("holder_not_in_unit", 409, "The receiving member must belong to the unit"),
    R("follow_up_code_unknown", 404, "No suggestion has this follow-up code"),
    R("reopen_needs_dissatisfied", 422, "Only a dissatisfied rating reopens the suggestion"),
    R("duplicate_of_not_allowed", 422, "Only a duplicate names another suggestion"),
    R("raise_choice_own_worker", 409, "Answer now or pass up applies only to your own worker"),
    R("raise_choice_required", 409, "Raising it for your own worker: answer it now or pass it up"),
    R("tag_unknown", 422, "No such tag in the federation's vocabulary", ("tag",)),
    R("department_not_found", 404, "No such department"),
    R("leadership_appoints", 403, "A leadership member appoints a department's members"),
    R("department_member_exists", 409, "This member acts for the department already"),
    R("not_department_member", 409, "This member does not act for the department"),
    R("not_department_member_acting", 403, "You do not act for the department it is assigned to"),
    R("already_taken_up", 409, "The department took it up already"),
    # Notifications.
    R("notification_not_found", 404, "No such notification"),
    R("notification_not_yours", 403, "This notification is someone else's"),
    R("calendar_feed_not_found", 404, "No such calendar feed of yours"),
    R("calendar_feed_unknown", 404, "No such calendar feed (revoked, or never issued)"),
    R("one_target_required", 422, "Name either a member or a unit, not both"),
    # Reports.
    R("rebuild_running", 409, "A rebuild is already running"),
    R("rebuild_not_found", 404, "No rebuild since the service started"),
    # Audit.
    R("one_subject_required", 422, "Give exactly one of member, suggestion, link"),
    R("audit_input", 422, "The history could not be read", ()),
    # Roster import.
    R("import_problems", 422, "The file has problems; nothing was stored", ("count",)),
    R("file_empty", 422, "The file is empty"),
    R("file_too_large", 422, "The file is too large", ("max_mib",)),
    R("file_not_xlsx", 422, "The file is not a readable XLSX workbook"),
    R("file_is_xlsx", 422, "The file is an XLSX workbook, not CSV: leave out kind"),
    R("file_not_utf8", 422, "The file is not UTF-8 text", ("byte",)),
    R("file_not_csv", 422, "The file is not readable CSV"),
    R("file_not_text", 422, "The file is not text in UTF-8, GBK or GB18030"),
    R("too_many_rows", 422, "The file has too many rows", ("max_rows",)),
)
"""Every refusal, by code."""


FIELD_CODES: Mapping[str, str] = {
    "required": "The field is required",
    "too_short": "The text is too short (min_length)",
    "too_long": "The text is too long (max_length)",
    "pattern_mismatch": "The text does not have the required form (pattern)",
    "not_uuid": "Not a UUID",
    "not_date": "Not a date like 2026-03-15",
    "not_datetime": "Not a date and time",
    "not_integer": "Not a whole number",
    "not_number": "Not a number",
    "not_boolean": "Not true or false",
    "too_small": "The number is too small (ge)",
    "too_large": "The number is too large (le)",
    "not_one_of": "Not one of the allowed values (expected)",
    "too_few": "Too few items (min_length)",
    "too_many": "Too many items (max_length)",
    "duplicate_items": "An item is listed twice",
    "unknown_field": "The field is not part of the request",
    "wrong_type": "The value has the wrong type",
    "control_character": "The text holds a control character (char, position)",
    "not_for_role": "The field does not apply to this role (role)",
    "unknown_scope": "Unknown read scope (unknown, known)",
    "nothing_to_correct": "Nothing to correct: give a date, method or note",
    "invalid_value": "The value is not valid",
}
"""The codes of the fields at fault in an answer's ``errors`` (and the values in brackets
their ``params`` may hold). Any refusal code above may also stand for a single field."""


def refusal(code: str) -> Refusal:
    """The catalogue's entry for ``code`` (``KeyError`` for a code nobody published)."""
    return REFUSALS[code]
