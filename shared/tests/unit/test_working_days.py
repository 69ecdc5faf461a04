"""Deadlines in working days by the official calendar, across 2026's National Day holiday.

The State Council's 2026 notice, as the calendar package carries it: National Day and its
bridge days are 1–7 October (Thursday to Wednesday), Saturday 10 October is a make-up working
day, and 20 September (a Sunday) is one too.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from escalation import DeadlineSettings, workdays

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 10) -> datetime:
    """A federation moment, in UTC as the events carry it."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI).astimezone(UTC)


def working(since: date = date(2026, 1, 1)) -> DeadlineSettings:
    return DeadlineSettings(_env_file=None, deadline_unit="working", deadline_unit_since=since)


def test_the_calendar_knows_2026_national_day_and_its_make_up_days() -> None:
    holiday = [date(2026, 10, d) for d in range(1, 8)]
    assert not any(workdays.is_working_day(d) for d in holiday)
    assert workdays.is_working_day(date(2026, 10, 10))  # a Saturday, made up
    assert workdays.is_working_day(date(2026, 9, 20))  # a Sunday, made up
    assert not workdays.is_working_day(date(2026, 10, 11))  # the Sunday after: rest
    assert workdays.is_working_day(date(2026, 10, 8))


def test_three_working_days_from_the_eve_of_the_holiday_end_on_the_make_up_saturday() -> None:
    # Wednesday 30 September: Thursday 8, Friday 9, Saturday 10 October (made up).
    assert workdays.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert workdays.add_working_days(date(2026, 9, 30), 4) == date(2026, 10, 12)
    assert workdays.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert workdays.subtract_working_days(date(2026, 10, 8), 1) == date(2026, 9, 30)


def test_a_working_day_deadline_keeps_the_time_of_day_in_the_federation() -> None:
    policy = working().deadline_policy()
    arrived = at(date(2026, 9, 30), 9)  # 01:00 UTC
    due, which = policy.due("held", "committee", arrived) or (None, None)
    assert which == "acknowledge"  # the committee has 3 to acknowledge, 10 to answer
    assert due == at(date(2026, 10, 10), 9)
    answer = policy.due("acknowledged", "committee", arrived)
    # 8, 9, 10, 12–16, 19, 20 October: the tenth working day.
    assert answer is not None
    assert answer[0] == at(date(2026, 10, 20), 9)
    # The same count in calendar days would have ended in the middle of the holiday.
    calendar = DeadlineSettings(_env_file=None).deadline_policy()
    assert calendar.due("held", "committee", arrived) == (at(date(2026, 10, 3), 9), "acknowledge")


def test_the_warning_comes_one_working_day_before_and_counts_working_days() -> None:
    policy = working().deadline_policy()
    arrived = at(date(2026, 9, 29))
    due = policy.due("held", "representative", arrived)  # 3: 30 Sep, 8 and 9 Oct
    assert due is not None
    assert due[0] == at(date(2026, 10, 9))
    warn = policy.warn_from(arrived, due[0], 1)
    assert warn == at(date(2026, 10, 8))
    assert policy.days_left(arrived, at(date(2026, 9, 30), 11), due[0]) == 2  # 8 and 9 Oct
    assert policy.days_left(arrived, warn, due[0]) == 1


def test_a_clock_started_before_the_change_keeps_calendar_days() -> None:
    policy = working(since=date(2026, 10, 1)).deadline_policy()
    before = at(date(2026, 9, 30))
    assert policy.unit_at(before) == "calendar"
    assert policy.due("held", "committee", before) == (before + timedelta(days=3), "acknowledge")
    started = at(date(2026, 10, 1), 0)  # midnight in Beijing, the day the change takes effect
    assert policy.unit_at(started) == "working"
    assert policy.due("held", "committee", started) == (at(date(2026, 10, 10), 0), "acknowledge")


def test_working_days_need_the_date_they_take_effect_and_whole_days() -> None:
    with pytest.raises(ValueError, match="DEADLINE_UNIT_SINCE"):
        DeadlineSettings(_env_file=None, deadline_unit="working")
    with pytest.raises(ValueError, match="whole numbers"):
        DeadlineSettings(
            _env_file=None,
            deadline_unit="working",
            deadline_unit_since=date(2026, 1, 1),
            deadlines={"committee": {"acknowledge_days": 1.5, "answer_days": 7}},
        )


def test_the_settings_read_the_unit_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANLIAN_FEEDBACK_DEADLINE_UNIT", "working")
    monkeypatch.setenv("SANLIAN_FEEDBACK_DEADLINE_UNIT_SINCE", "2026-10-01")
    monkeypatch.setenv("SANLIAN_TIMEZONE", "Asia/Urumqi")
    policy = DeadlineSettings(_env_file=None).deadline_policy()
    assert policy.unit == "working"
    assert policy.zone == ZoneInfo("Asia/Urumqi")


def test_the_calendar_running_out_is_warned_naming_its_last_year(
    caplog: pytest.LogCaptureFixture,
) -> None:
    last = workdays.last_covered_year()
    assert last >= 2026
    assert workdays.coverage_warning(date(last, 6, 1)) is None
    soon = workdays.coverage_warning(date(last, 12, 1))
    assert soon is not None
    assert f"ends with {last}" in soon
    gone = workdays.coverage_warning(date(last + 1, 3, 1))
    assert gone is not None
    assert "Monday to Friday" in gone
    # Past the calendar, Monday to Friday: a Saturday rests, a Monday works.
    saturday = date(last + 2, 1, 1) + timedelta(days=(5 - date(last + 2, 1, 1).weekday()) % 7)
    assert not workdays.is_working_day(saturday)
    assert workdays.is_working_day(saturday + timedelta(days=2))
    with caplog.at_level(logging.WARNING, logger="escalation.deadlines"):
        working().deadline_policy()
    today = datetime.now(SHANGHAI).date()
    expected = workdays.coverage_warning(today)
    assert [r.getMessage() for r in caplog.records] == ([expected] if expected else [])
