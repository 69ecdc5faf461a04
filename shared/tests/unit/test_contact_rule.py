"""The contact rule (two contacts a year), the one definition of compliance."""

from __future__ import annotations

from datetime import date

import pytest

from compliance import ContactRule

RULE = ContactRule()
YEAR = RULE.period_of(date(2026, 5, 17))


def test_the_period_is_the_calendar_year() -> None:
    assert (YEAR.start, YEAR.end, YEAR.label) == (date(2026, 1, 1), date(2026, 12, 31), "2026")
    half = ContactRule(period_months=6).period_of(date(2026, 8, 1))
    assert (half.start, half.end, half.label) == (date(2026, 7, 1), date(2026, 12, 31), "2026-H2")


def test_a_link_active_all_year_owes_two_due_mid_year_then_at_year_end() -> None:
    assert RULE.standing(YEAR, date(2025, 3, 1), None, []).next_due == date(2026, 7, 2)
    one = RULE.standing(YEAR, date(2025, 3, 1), None, [date(2026, 2, 1)])
    assert (one.required, one.counted, one.status, one.next_due) == (
        2,
        1,
        "behind",
        date(2026, 12, 31),
    )
    two = RULE.standing(YEAR, date(2025, 3, 1), None, [date(2026, 2, 1), date(2026, 9, 9)])
    assert (two.status, two.next_due) == ("met", None)


@pytest.mark.parametrize(
    ("active_from", "active_to", "required"),
    [
        (date(2026, 7, 1), None, 1),
        (date(2026, 12, 20), None, 1),
        (date(2026, 3, 1), None, 2),
        (date(2025, 1, 1), date(2026, 2, 1), 1),
        (date(2027, 1, 1), None, 0),
    ],
)
def test_a_link_active_part_of_the_year_owes_its_share(
    active_from: date, active_to: date | None, required: int
) -> None:
    assert RULE.required(YEAR, active_from, active_to) == required


def test_contacts_outside_the_links_active_days_do_not_count() -> None:
    standing = RULE.standing(
        YEAR,
        date(2026, 6, 1),
        date(2026, 10, 1),
        [date(2026, 5, 1), date(2026, 6, 1), date(2026, 10, 1)],
    )
    assert (standing.required, standing.counted, standing.status) == (1, 1, "met")
