"""Why a link owes the contacts it owes in a period, as the pages say it.

The rule is :mod:`compliance.rule` (applied by the contacts and reports services, which answer
``required`` with the link's active days in the period): a link active the whole period owes
the minimum; one that started or ended inside it owes a prorated share, at least 1. The pages
give the count and, for a part of the period, the days the link was active.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import Literal

from compliance.rule import ContactRule
from eventspine.config import Settings

Why = Literal["whole", "from", "until", "between"]


def _day(value: object) -> date | None:
    return None if value in (None, "") else date.fromisoformat(str(value)[:10])


def owed_reason(
    assigned_on: object,
    unassigned_on: object,
    active_from: object,
    active_until: object,
    whole_period: bool,
) -> Why:
    """``whole`` (active all the period), ``from`` (started inside it), ``until`` (ended inside
    it) or ``between`` (both)."""
    start, end = _day(active_from), _day(active_until)
    if whole_period or start is None or end is None:
        return "whole"
    started = start == _day(assigned_on)
    ended = _day(unassigned_on) is not None and _day(unassigned_on) == end + timedelta(days=1)
    if started and ended:
        return "between"
    return "from" if started else "until"


@cache
def contact_rule() -> dict[str, int]:
    """The rule's ``minimum`` per whole period and its period length in ``months``, from the
    same settings the services apply (``SANLIAN_CONTACT_MINIMUM``, ``..._PERIOD_MONTHS``)."""
    settings = Settings()
    return {"minimum": settings.contact_minimum, "months": settings.contact_period_months}


@cache
def rule() -> ContactRule:
    """The contact rule itself (:class:`compliance.rule.ContactRule`), from the same settings."""
    found = contact_rule()
    return ContactRule.model_validate(
        {"minimum": found["minimum"], "period_months": found["months"]}
    )
