"""Names of the domain's codes as the pages show them (catalogue ids, translated on render)."""

from __future__ import annotations

from web.frontend.i18n import N_

STATUS_LABELS = {"met": N_("Met"), "behind": N_("Behind"), "none": N_("Not contacted")}
METHOD_LABELS = {
    "meeting": N_("Meeting"),
    "visit": N_("Visit"),
    "phone": N_("Phone"),
    "online": N_("Online"),
}
TIER_LABELS = {
    "leader": N_("Leadership member"),
    "committee": N_("Committee member"),
    "representative": N_("Representative"),
    "worker": N_("Worker"),
}
UNIT_KIND_LABELS = {
    "city_federation": N_("City federation"),
    "county_union": N_("County union"),
    "enterprise_union": N_("Enterprise union"),
}
CATEGORY_LABELS = {
    "rights": N_("Rights"),
    "wages_and_welfare": N_("Wages and welfare"),
    "safety": N_("Safety"),
    "training": N_("Training"),
    "union_work": N_("Union work"),
    "other": N_("Other"),
}
SUGGESTION_STATUS_LABELS = {
    "held": N_("Waiting"),
    "acknowledged": N_("Acknowledged"),
    "answered": N_("Answered"),
    "assigned": N_("Assigned"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
    "set_aside": N_("Set aside"),
}
STEP_LABELS = {
    "SuggestionRaised": N_("Raised"),
    "SuggestionAcknowledged": N_("Acknowledged"),
    "SuggestionEscalated": N_("Escalated"),
    "SuggestionAnswered": N_("Answered"),
    "SuggestionAssigned": N_("Assigned to a department"),
    "SuggestionResolved": N_("Handled"),
    "SuggestionClosed": N_("Closed"),
    "SuggestionReopened": N_("Reopened"),
    "SuggestionReceived": N_("Received by QR code"),
    "SuggestionRated": N_("Rated"),
    "SuggestionSetAside": N_("Set aside"),
    "SuggestionTakenUp": N_("Taken up by the department"),
    "SuggestionDepartmentOverdue": N_("Department overdue: back with the assigner"),
}
RATING_LABELS = {
    "satisfied": N_("Satisfied"),
    "basically_satisfied": N_("Basically satisfied"),
    "dissatisfied": N_("Dissatisfied"),
}
SET_ASIDE_LABELS = {
    "spam": N_("Set aside: this is not a matter for the union (spam)."),
    "duplicate": N_("Set aside: the same matter was raised already and is handled there."),
}
VERIFICATION_LABELS = {
    "anonymous": N_("anonymous worker"),
    "unverified": N_("worker not verified"),
    "matched": N_("worker verified by phone"),
}
# What a worker reads on the follow-up page: the status when it says enough, else the stage.
VOICE_STATUS_LABELS = {
    "answered": N_("Answered"),
    "resolved": N_("Handled by the department"),
    "closed": N_("Closed"),
    "set_aside": N_("Set aside"),
}
VOICE_STAGE_LABELS = {
    "representative": N_("With your union representative"),
    "committee": N_("Passed up to a committee member"),
    "federation": N_("With the city federation"),
    "department": N_("With a federation department"),
}
DEADLINE_LABELS = {
    "acknowledge": N_("to acknowledge"),
    "answer": N_("to answer"),
    "department": N_("for the department's outcome"),
    "department_overdue": N_("Department overdue: back with the assigner"),
}
ROLE_LABELS = {
    "admin": N_("Federation staff"),
    "member": N_("Member"),
    "auditor": N_("Auditor"),
    "system": N_("System"),
}
MEMBER_STATUS_LABELS = {
    "active": N_("Active"),
    "departed": N_("Departed"),
    "forgotten": N_("Forgotten"),
}

ALL = {
    "STATUS_LABELS": STATUS_LABELS,
    "METHOD_LABELS": METHOD_LABELS,
    "TIER_LABELS": TIER_LABELS,
    "UNIT_KIND_LABELS": UNIT_KIND_LABELS,
    "CATEGORY_LABELS": CATEGORY_LABELS,
    "SUGGESTION_STATUS_LABELS": SUGGESTION_STATUS_LABELS,
    "STEP_LABELS": STEP_LABELS,
    "DEADLINE_LABELS": DEADLINE_LABELS,
    "ROLE_LABELS": ROLE_LABELS,
    "MEMBER_STATUS_LABELS": MEMBER_STATUS_LABELS,
    "RATING_LABELS": RATING_LABELS,
    "SET_ASIDE_LABELS": SET_ASIDE_LABELS,
    "VERIFICATION_LABELS": VERIFICATION_LABELS,
    "VOICE_STATUS_LABELS": VOICE_STATUS_LABELS,
    "VOICE_STAGE_LABELS": VOICE_STAGE_LABELS,
}
"""Every table, as the templates' globals."""
