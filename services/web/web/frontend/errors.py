"""Refusals as the pages show them: the words for each code, beside the field at fault, in the
user's language, with the values filled in.

The services answer with a stable code and its values (``contracts.refusals``); the page never
shows the services' English. A code these pages have no words for (a newer service) reads as
what its status means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from web.frontend import labels
from web.frontend.i18n import N_, Said
from web.frontend.refusals import MESSAGES
from web.frontend.services import Refused, ServiceError

STATUS_MESSAGES = {
    400: N_("The request could not be read. Please try again."),
    401: N_("Please sign in again."),
    403: N_("You may not do this."),
    404: N_("Not found: it may have been removed, or the address is wrong."),
    409: N_("This cannot be done now."),
    413: N_("What you sent is too large."),
    429: N_("Too many attempts. Please wait a moment and try again."),
    503: N_("The service does not answer right now. Please try again shortly."),
}
_LABELS: dict[str, dict[str, str]] = {
    "tier": labels.TIER_LABELS,
    "lower_tier": labels.TIER_LABELS,
    "upper_tier": labels.TIER_LABELS,
    "expected_tier": labels.TIER_LABELS,
    "role": labels.ROLE_LABELS,
    "roles": labels.ROLE_LABELS,
    "kind": labels.UNIT_KIND_LABELS,
    "status": {**labels.MEMBER_STATUS_LABELS, **labels.SUGGESTION_STATUS_LABELS},
    "allowed": {**labels.UNIT_KIND_LABELS, **labels.SUGGESTION_STATUS_LABELS},
}
_DATES = {"date", "today", "linked_on", "ended_on", "started_on", "contacted_on"}


def _value(name: str, value: Any) -> object:
    """A value as the page says it: a label for a code, a date as a date."""
    if isinstance(value, list):
        return [_value(name, v) for v in value]
    if name in _LABELS and isinstance(value, str) and value in _LABELS[name]:
        return Said(_LABELS[name][value])
    if name in _DATES and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    if name == "position" and isinstance(value, int):
        return value + 1  # people count characters from 1
    return value


def said(refused: Refused | str | None, status: int = 422) -> Said:
    """The words for one refusal, ready to be translated with its values (a page's own
    check gives its words as they are)."""
    if isinstance(refused, str):
        return Said(refused)
    if refused is None or refused.code not in MESSAGES:
        return Said(STATUS_MESSAGES.get(status, N_("Something went wrong.")))
    if refused.code == "too_short" and refused.params.get("min_length") == 1:
        return Said(MESSAGES["required"])  # blank after trimming: not filled in
    params = {k: _value(k, v) for k, v in refused.params.items()}
    return Said(MESSAGES[refused.code], params)


@dataclass
class Problem:
    """What a page shows for a refusal: messages per field, one at the top."""

    fields: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    detail: list[str] = field(default_factory=list)
    """Further refusals of fields the form does not have."""


def describe(error: ServiceError, known_fields: frozenset[str] | set[str] = frozenset()) -> Problem:
    """Sort a refusal's messages: those of the form's own fields go beside them; the rest,
    and the refusal of the command as a whole, go to the top of the form."""
    problem = Problem()
    general: list[str] = []
    for name, refused in error.fields.items():
        words = said(refused, error.status)
        if name in known_fields:
            problem.fields[name] = words
        else:
            general.append(words)
    top = said(Refused(error.code, error.params) if error.code else None, error.status)
    if error.code == "invalid_request":
        # The fields say what is wrong; the top says so only for fields the form lacks.
        problem.message = general.pop(0) if general else (None if problem.fields else top)
    elif not problem.fields or error.code not in {
        r.code for r in error.fields.values() if isinstance(r, Refused)
    }:
        problem.message = top
    problem.detail = [d for d in dict.fromkeys(general) if d != problem.message]
    return problem
