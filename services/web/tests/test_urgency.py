"""How soon, as the pages say it (web.frontend.urgency): pure functions, the date set here."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from compliance.rule import ContactRule
from web.frontend.i18n import Language, Languages
from web.frontend.urgency import (
    Remaining,
    age_text,
    due,
    due_text,
    from_hours,
    period_summary,
    remaining,
    remaining_text,
    summary_text,
)

TODAY = date(2026, 12, 3)
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=timezone(timedelta(hours=8)))
YEAR = ContactRule(minimum=2, period_months=12)


@pytest.fixture(scope="module")
def zh() -> Language:
    return Languages().pick("zh_CN")


@pytest.fixture(scope="module")
def en() -> Language:
    return Languages().pick("en")


def link(required: int, counted: int, next_due: str | None = None) -> dict[str, Any]:
    return {"standing": {"required": required, "counted": counted, "next_due": next_due}}


def test_a_due_date_reads_as_days_overdue_or_left_and_is_coloured_by_how_near_it_is(
    zh: Language, en: Language
) -> None:
    overdue = due("2026-07-02", TODAY)
    assert overdue is not None
    assert (overdue.days, overdue.level) == (-154, "overdue")
    assert due_text(zh, overdue) == "已逾期 154 天"
    assert due_text(en, overdue) == "154 days overdue"
    yesterday = due(TODAY - timedelta(days=1), TODAY)
    assert yesterday is not None
    assert due_text(en, yesterday) == "1 day overdue"
    today = due(TODAY, TODAY)
    assert today is not None
    assert (due_text(zh, today), today.level) == ("今天到期", "soon")
    soon = due(date(2026, 12, 17), TODAY)
    assert soon is not None
    assert (due_text(zh, soon), soon.level) == ("还剩 14 天", "soon")
    later = due(date(2026, 12, 18), TODAY)
    assert later is not None
    assert (due_text(en, later), later.level) == ("15 days left", "later")
    assert due(None, TODAY) is None
    assert due("", TODAY) is None


def test_a_deadline_reads_in_days_and_hours_left_or_past(zh: Language, en: Language) -> None:
    left = remaining(NOW + timedelta(days=1, hours=3, minutes=20), NOW)
    assert (remaining_text(zh, left), left.level) == ("还剩 1 天 3 小时", "later")
    assert remaining_text(en, left) == "1 day 3 hours left"
    past = remaining("2026-12-03T00:00:00+00:00", NOW)  # 08:00 in Beijing, two hours ago
    assert (remaining_text(zh, past), past.level) == ("已超时 2 小时", "overdue")
    assert remaining_text(en, past) == "2 hours overdue"
    close = remaining(NOW + timedelta(minutes=40), NOW)
    assert (remaining_text(zh, close), close.level) == ("还剩 40 分钟", "soon")
    assert remaining_text(zh, remaining(NOW + timedelta(days=2), NOW)) == "还剩 2 天"
    # A deadline given without a zone is read as UTC, as the services write them.
    assert remaining(datetime(2026, 12, 3, 3, 0), NOW) == Remaining(60)
    assert remaining(datetime(2026, 12, 3, 2, 0, 30, tzinfo=UTC), NOW) == Remaining(1)


def test_the_queue_counts_days_and_hours_instead_of_decimal_hours(
    zh: Language, en: Language
) -> None:
    assert age_text(zh, 71.5) == "2 天 23 小时"
    assert age_text(en, 71.5) == "2 days 23 hours"
    assert age_text(zh, 0.25) == "15 分钟"
    assert age_text(en, 24.0) == "1 day"
    assert remaining_text(zh, from_hours(-5.5)) == "已超时 5 小时"
    assert from_hours(-5.5).level == "overdue"
    assert remaining_text(en, from_hours(49.0)) == "2 days 1 hour left"


def test_the_period_summary_says_the_days_left_and_who_and_how_often_is_still_owed(
    zh: Language, en: Language
) -> None:
    links = [link(2, 0), link(2, 1), link(2, 2), link(1, 3)]
    summary = period_summary(links, TODAY, YEAR)
    assert (summary.period, summary.end, summary.days_left) == ("2026", date(2026, 12, 31), 28)
    assert (summary.people_owed, summary.contacts_owed) == (2, 3)
    assert summary_text(zh, summary) == "本年度还剩 28 天，还需联系 2 人 3 次"
    assert summary_text(en, summary) == (
        "28 days left in the year; still to contact: 2 people, 3 contacts"
    )
    assert summary.level == "later"
    late = period_summary([link(2, 0, "2026-07-02"), link(2, 1, "2026-12-31")], TODAY, YEAR)
    assert (late.people_overdue, late.level) == (1, "overdue")
    met = period_summary([link(2, 2)], date(2026, 12, 30), YEAR)
    assert summary_text(zh, met) == "本年度还剩 1 天，所有联系对象均已达标"
    assert summary_text(en, met) == "1 day left in the year; every contact is met"
    half = period_summary([link(1, 0)], date(2026, 6, 20), ContactRule(period_months=6))
    assert summary_text(zh, half) == "本期还剩 10 天，还需联系 1 人 1 次"
    assert summary_text(en, half) == (
        "10 days left in the period; still to contact: 1 person, 1 contact"
    )
    assert half.level == "soon"
    assert period_summary([], TODAY, YEAR).contacts_owed == 0


def test_one_date_format_per_language_in_the_federation_time_zone() -> None:
    from zoneinfo import ZoneInfo

    languages = Languages(ZoneInfo("Asia/Shanghai"))
    zh, en = languages.pick("zh_CN"), languages.pick("en")
    moment = datetime(2026, 12, 5, 18, 30, tzinfo=UTC)  # already the 6th in Beijing
    assert zh.date(date(2026, 12, 3)) == "2026年12月3日"
    assert en.date(date(2026, 12, 3)) == "3 Dec 2026"
    assert zh.datetime(moment) == "2026年12月6日 02:30"
    assert en.datetime(moment.isoformat()) == "6 Dec 2026 02:30"
    assert zh.date(moment) == "2026年12月6日"
    assert (zh.day("2026-07-01"), en.day("2026-07-01")) == ("7月1日", "1 Jul")
