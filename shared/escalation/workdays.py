"""The official working-day calendar: statutory holidays and make-up working days (调休).

The days come from the maintained ``chinesecalendar`` package, which carries each year's
State Council notice. Past the last year it covers, a day counts as working from Monday to
Friday, and :func:`coverage_warning` says so at start, naming the last covered year, so that
an operator updates the package before a deadline is counted on a guess.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def last_covered_year() -> int:
    """The last year the installed calendar knows the holidays of."""
    years: int = max(day.year for day in chinese_calendar.holidays)
    return years


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day by the official calendar (Monday to Friday past it)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the package does not cover yet
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count)."""
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def subtract_working_days(end: date, days: int) -> date:
    """The working day ``days`` working days before ``end`` (``end`` itself does not count)."""
    day, left = end, days
    while left > 0:
        day -= timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after ``start`` up to and including ``end`` (0 if none)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def coverage_warning(today: date, horizon_days: int = 60) -> str | None:
    """A warning when the calendar ends within ``horizon_days`` of ``today`` (or has ended)."""
    last = last_covered_year()
    if today + timedelta(days=horizon_days) <= date(last, 12, 31):
        return None
    if today.year > last:
        return (
            f"the working-day calendar (chinesecalendar) ends with {last}: deadlines in working "
            "days now count Monday to Friday without the holidays; update the package"
        )
    return (
        f"the working-day calendar (chinesecalendar) ends with {last}: deadlines that run into "
        f"{last + 1} count Monday to Friday without the holidays; update the package"
    )
