"""Refusals as the pages show them: a message per field, in the user's language."""

from __future__ import annotations

from dataclasses import dataclass, field

from web.frontend.i18n import N_
from web.frontend.services import ServiceError

# pydantic's error types, as the services send them in 422 answers.
FIELD_MESSAGES = {
    "missing": N_("Please fill this in."),
    "string_too_short": N_("Please fill this in."),
    "string_too_long": N_("This is too long."),
    "uuid_parsing": N_("Please choose one from the list."),
    "uuid_type": N_("Please choose one from the list."),
    "date_parsing": N_("Please enter a date like 2026-03-15."),
    "date_from_datetime_parsing": N_("Please enter a date like 2026-03-15."),
    "date_type": N_("Please enter a date like 2026-03-15."),
    "literal_error": N_("Please choose one of the options."),
    "enum": N_("Please choose one of the options."),
    "list_too_short": N_("Please choose at least one."),
    "int_parsing": N_("Please enter a whole number."),
    "greater_than_equal": N_("The number is too small."),
    "less_than_equal": N_("The number is too large."),
}
STATUS_MESSAGES = {
    401: N_("Please sign in again."),
    403: N_("You may not do this."),
    404: N_("Not found: it may have been removed, or the address is wrong."),
    409: N_("This cannot be done now."),
    429: N_("Too many attempts. Please wait a moment and try again."),
    503: N_("The service does not answer right now. Please try again shortly."),
}


def field_message(raw: str) -> str:
    """A field's message: a catalogue id for pydantic's common types, else the service's text."""
    kind, sep, text = raw.partition("|")
    if not sep:
        return raw
    return FIELD_MESSAGES.get(kind, text)


@dataclass
class Problem:
    """What a page shows for a refusal: messages per field, one at the top, the service's words."""

    fields: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    detail: str | None = None


def describe(error: ServiceError, known_fields: frozenset[str] | set[str] = frozenset()) -> Problem:
    """Sort a refusal's messages: those of the form's own fields go beside them; the rest,
    and refusals of the whole command (403, 404, 409), go to the top of the form."""
    problem = Problem()
    general: list[str] = []
    for name, raw in error.fields.items():
        if name in known_fields:
            problem.fields[name] = field_message(raw)
        else:
            general.append(field_message(raw))
    if error.status != 422:
        problem.message = STATUS_MESSAGES.get(error.status, N_("Something went wrong."))
    elif general:
        problem.message = general.pop(0)
    elif not problem.fields:
        problem.message = N_("Something went wrong.")
    details = [*general, *([error.message] if error.message else [])]
    problem.detail = "; ".join(d for d in details if d not in problem.fields.values()) or None
    return problem
