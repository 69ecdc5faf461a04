"""The reports' own rules, with no I/O: "today" and "now" are passed in.

How a link stands in a period as the compliance view shows it (the contact rule itself is
:mod:`compliance`, shared with the contacts service's due list), and how urgent an open
suggestion is in the escalation queue (its deadlines are :mod:`escalation`'s, the scheduler's).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from compliance import ContactRule, Period
from compliance.rule import LinkStanding
from escalation import DeadlinePolicy, Recorded
from escalation.deadlines import Deadline
from reports.models import LinkCompliance, QueueItem

SEVERITY = {"none": 0, "behind": 1, "met": 2}


def link_standing(
    rule: ContactRule,
    period: Period,
    today: date,
    assigned_on: date,
    unassigned_on: date | None,
    contact_dates: list[date],
) -> LinkStanding | None:
    """Where a link stands in ``period`` on ``today``: ``None`` when it owes nothing there
    (not active in it); no next due date once the period is over."""
    standing = rule.standing(period, assigned_on, unassigned_on, contact_dates)
    if standing.required == 0:
        return None
    if period.end < today:
        return dataclasses.replace(standing, next_due=None)
    return standing


def least_compliant_first(link: LinkCompliance) -> tuple[int, date, str]:
    """Sort key of the view's links: no contact, then behind, then met; the soonest due first."""
    return SEVERITY[link.status], link.next_due or date.max, str(link.link_id)


def hours(seconds: float) -> float:
    """Seconds as hours, to the hundredth (how the reports show durations)."""
    return round(seconds / 3600, 2)


DepartmentStep = Literal["department", "department_overdue"]
"""A department's deadline: running (assigned), or passed and back with the assigner."""


@dataclass(frozen=True)
class Urgency:
    """How long an open suggestion has waited, and how long its holder has left."""

    age_hours: float
    deadline: Deadline | DepartmentStep | None
    hours_to_deadline: float | None
    """Negative once the deadline has passed; ``None`` when no deadline runs."""


def urgency(
    deadlines: DeadlinePolicy,
    status: str,
    holder_tier: str | None,
    raised_at: datetime,
    arrived_at: datetime,
    now: datetime,
    recorded: Recorded = "unrecorded",
) -> Urgency:
    """The urgency at ``now`` of a suggestion raised at ``raised_at`` that reached its holder
    (or its status) at ``arrived_at``, by the rule its holder's clock started under
    (``recorded``, from its event; "unrecorded": the settings', as before rules were
    recorded)."""
    due = deadlines.recorded_due(status, holder_tier, arrived_at, recorded)
    return Urgency(
        age_hours=hours((now - raised_at).total_seconds()),
        deadline=due[1] if due else None,
        hours_to_deadline=hours((due[0] - now).total_seconds()) if due else None,
    )


def department_step(standing: Urgency, status: str, due_by: datetime, now: datetime) -> Urgency:
    """The urgency of a suggestion with a department's step: while assigned, the department's
    deadline; back with its assigner because that deadline passed (acknowledged again), still
    that deadline, passed, so that it stays among the overdue until the assigner acts."""
    kinds: dict[str, DepartmentStep] = {
        "assigned": "department",
        "acknowledged": "department_overdue",
    }
    kind = kinds.get(status)
    if kind is None:
        return standing
    return dataclasses.replace(
        standing, deadline=kind, hours_to_deadline=hours((due_by - now).total_seconds())
    )


def most_urgent_first(item: QueueItem) -> tuple[bool, float, float, str]:
    """Sort key of the queue: overdue, then the soonest deadline, then the oldest; those with
    no deadline last."""
    return (
        item.hours_to_deadline is None,
        item.hours_to_deadline or 0.0,
        -item.age_hours,
        str(item.suggestion_id),
    )


def overdue(items: Iterable[QueueItem]) -> int:
    """How many of ``items`` are past their deadline."""
    return sum(1 for item in items if (item.hours_to_deadline or 0) < 0)
