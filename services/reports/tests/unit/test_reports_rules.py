"""The reports' rules as pure functions: a link's standing in the view, the queue's urgency."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from compliance import ContactRule
from compliance.rule import LinkStanding, Status
from escalation import DeadlineSettings
from reports.models import LinkCompliance, QueueItem
from reports.rules import (
    least_compliant_first,
    link_standing,
    most_urgent_first,
    overdue,
    urgency,
)

RULE = ContactRule()
YEAR = RULE.period_of(date(2026, 1, 1))
MID_YEAR = date(2026, 6, 15)
POLICY = DeadlineSettings(_env_file=None).deadline_policy()
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def standing(
    contacts: list[date], today: date = MID_YEAR, assigned: date = date(2025, 3, 1)
) -> LinkStanding | None:
    """A link assigned before 2026 (or on ``assigned``), seen on ``today`` in 2026."""
    return link_standing(RULE, YEAR, today, assigned, None, contacts)


def test_a_link_with_no_contact_yet_owes_two_and_the_first_is_due_in_july() -> None:
    found = standing([])
    assert found is not None
    assert (found.required, found.counted, found.status, found.next_due) == (
        2,
        0,
        "none",
        date(2026, 7, 2),
    )


def test_one_contact_is_behind_with_the_second_due_at_the_year_end() -> None:
    found = standing([date(2026, 2, 1)])
    assert found is not None
    assert (found.status, found.next_due) == ("behind", date(2026, 12, 31))


def test_two_contacts_meet_the_rule_and_nothing_is_due() -> None:
    found = standing([date(2026, 2, 1), date(2026, 9, 9)], today=date(2026, 10, 1))
    assert found is not None
    assert (found.status, found.next_due) == ("met", None)


def test_a_contact_outside_the_period_does_not_count() -> None:
    found = standing([date(2025, 12, 31), date(2027, 1, 1)])
    assert found is not None
    assert (found.counted, found.status) == (0, "none")


def test_once_the_period_is_over_a_link_behind_has_no_next_due_date() -> None:
    found = standing([date(2026, 2, 1)], today=date(2027, 1, 5))
    assert found is not None
    assert (found.status, found.next_due) == ("behind", None)


def test_on_the_last_day_of_the_period_the_next_due_date_still_shows() -> None:
    found = standing([], today=YEAR.end)
    assert found is not None
    assert found.next_due == date(2026, 7, 2)


def test_a_link_that_starts_after_the_period_owes_nothing_and_is_left_out() -> None:
    assert standing([], assigned=date(2027, 2, 1)) is None


def test_a_link_started_on_the_first_of_july_owes_one_contact() -> None:
    found = standing([], assigned=date(2026, 7, 1))
    assert found is not None
    assert (found.required, found.next_due) == (1, date(2026, 12, 31))


def _link(status: Status, next_due: date | None) -> LinkCompliance:
    return LinkCompliance(
        link_id=uuid.uuid4(),
        upper_member_id=uuid.uuid4(),
        lower_member_id=uuid.uuid4(),
        upper_tier="representative",
        lower_unit_id=uuid.uuid4(),
        assigned_on=date(2025, 3, 1),
        unassigned_on=None,
        ended=False,
        active_from=date(2026, 1, 1),
        active_until=date(2026, 12, 31),
        whole_period=True,
        required=2,
        counted={"none": 0, "behind": 1, "met": 2}[status],
        last_contact_on=None,
        status=status,
        next_due=next_due,
    )


def test_the_view_lists_links_with_no_contact_first_then_behind_then_met() -> None:
    met = _link("met", None)
    behind_later = _link("behind", date(2026, 12, 31))
    behind_sooner = _link("behind", date(2026, 7, 2))
    none = _link("none", date(2026, 7, 2))
    ordered = sorted([met, behind_later, none, behind_sooner], key=least_compliant_first)
    assert ordered == [none, behind_sooner, behind_later, met]


def test_a_suggestion_held_by_a_representative_must_be_acknowledged_within_three_days() -> None:
    raised = NOW - timedelta(days=1)
    found = urgency(POLICY, "held", "representative", raised, raised, NOW)
    assert (found.age_hours, found.deadline, found.hours_to_deadline) == (24.0, "acknowledge", 48.0)


def test_an_acknowledged_suggestion_runs_the_answer_deadline_from_its_arrival() -> None:
    arrived = NOW - timedelta(days=8)
    found = urgency(POLICY, "acknowledged", "representative", arrived, arrived, NOW)
    assert (found.deadline, found.hours_to_deadline) == ("answer", -24.0)


def test_at_the_top_of_the_chain_and_once_assigned_no_deadline_runs() -> None:
    raised = NOW - timedelta(hours=5)
    assert urgency(POLICY, "held", None, raised, raised, NOW).deadline is None
    assigned = urgency(POLICY, "assigned", "leader", raised, raised, NOW)
    assert (assigned.deadline, assigned.hours_to_deadline, assigned.age_hours) == (None, None, 5.0)


def test_the_age_counts_from_raising_and_the_deadline_from_arrival_at_the_holder() -> None:
    raised, arrived = NOW - timedelta(days=4), NOW - timedelta(hours=12)
    found = urgency(POLICY, "held", "committee", raised, arrived, NOW)
    assert (found.age_hours, found.hours_to_deadline) == (96.0, 60.0)


def _item(hours_to_deadline: float | None, age_hours: float) -> QueueItem:
    return QueueItem(
        suggestion_id=uuid.uuid4(),
        category="safety",
        status="held",
        holder_id=None,
        holder_tier=None,
        level=0,
        escalations=0,
        department=None,
        raiser_unit_id=None,
        subject_unit_id=None,
        raised_by_unit_id=None,
        age_hours=age_hours,
        deadline=None if hours_to_deadline is None else "acknowledge",
        hours_to_deadline=hours_to_deadline,
    )


def test_the_queue_puts_overdue_first_then_the_soonest_deadline_then_no_deadline() -> None:
    late, soon, later = _item(-5.0, 80.0), _item(2.0, 10.0), _item(30.0, 40.0)
    old_open, new_open = _item(None, 200.0), _item(None, 1.0)
    ordered = sorted([new_open, later, soon, old_open, late], key=most_urgent_first)
    assert ordered == [late, soon, later, old_open, new_open]


@pytest.mark.parametrize(
    ("hours_left", "counted"),
    [([-0.01, 0.0, 5.0, None], 1), ([None, None], 0), ([-1.0, -200.0], 2)],
)
def test_only_a_passed_deadline_is_overdue(hours_left: list[float | None], counted: int) -> None:
    assert overdue([_item(h, 1.0) for h in hours_left]) == counted
