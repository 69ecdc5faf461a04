"""How soon, as the pages say it: a due date as days overdue or left (已逾期 3 天, 还剩 5 天), a
suggestion's deadline in days and hours (还剩 1 天 3 小时, 已超时 5 小时), the period's summary
(本年度还剩 28 天，还需联系 2 人 3 次).

Pure functions: "today" and "now" are values the caller passes, read from the federation's
clock (:class:`eventspine.clock.FederationClock`, on the app's state) once per page. Each
reading (:class:`Due`, :class:`Remaining`, :class:`Summary`) has a ``level`` the pages colour
by: ``overdue``, ``soon`` or ``later``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from compliance.rule import ContactRule
from web.frontend.i18n import Language

Level = Literal["overdue", "soon", "later"]
SOON_DAYS = 14
"""A due date this close (or closer) is shown as soon (amber)."""
SOON_HOURS = 24
"""A deadline this close (or closer) is shown as soon."""


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])


def _as_moment(value: datetime | str) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Due:
    """A due date seen from today: ``days`` until it (0 today, negative once it passed)."""

    day: date
    days: int

    @property
    def level(self) -> Level:
        """``overdue`` once the day has passed, ``soon`` within :data:`SOON_DAYS`."""
        if self.days < 0:
            return "overdue"
        return "soon" if self.days <= SOON_DAYS else "later"


def due(day: date | str | None, today: date) -> Due | None:
    """The due date ``day`` seen from ``today`` (None: nothing is due)."""
    if day is None or day == "":
        return None
    found = _as_date(day)
    return Due(found, (found - today).days)


def due_text(lang: Language, found: Due) -> str:
    """``已逾期 3 天``, ``今天到期``, ``还剩 5 天`` (``3 days overdue``, ``due today``, ...)."""
    if found.days < 0:
        n = -found.days
        return lang.ngettext("%(n)s day overdue", "%(n)s days overdue", n) % {"n": lang.number(n)}
    if found.days == 0:
        return lang.gettext("due today")
    n = found.days
    return lang.ngettext("%(n)s day left", "%(n)s days left", n) % {"n": lang.number(n)}


@dataclass(frozen=True)
class Remaining:
    """Time to a deadline, in whole minutes (negative once it passed)."""

    minutes: int

    @property
    def level(self) -> Level:
        """``overdue`` once passed, ``soon`` within :data:`SOON_HOURS`."""
        if self.minutes < 0:
            return "overdue"
        return "soon" if self.minutes <= SOON_HOURS * 60 else "later"


def remaining(deadline: datetime | str, now: datetime) -> Remaining:
    """From ``now`` to ``deadline``; a part of a minute left counts as a minute still left."""
    seconds = (_as_moment(deadline) - _as_moment(now)).total_seconds()
    return Remaining(math.ceil(seconds / 60) if seconds >= 0 else -math.ceil(-seconds / 60))


def from_hours(hours: float) -> Remaining:
    """A time to a deadline given in hours (the escalation queue's ``hours_to_deadline``)."""
    minutes = hours * 60
    return Remaining(math.ceil(minutes) if minutes >= 0 else -math.ceil(-minutes))


def span_text(lang: Language, minutes: int) -> str:
    """A length of time in days and hours (``2 天 3 小时``, ``3 小时``), in minutes under an
    hour; hours are whole (cut, not rounded: 2 hours 59 minutes is 2 hours)."""
    minutes = abs(minutes)
    days, rest = divmod(minutes, 24 * 60)
    hours = rest // 60
    parts = []
    if days:
        parts.append(lang.ngettext("%(n)s day", "%(n)s days", days) % {"n": lang.number(days)})
    if hours:
        parts.append(lang.ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": lang.number(hours)})
    if not parts:
        return lang.ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": lang.number(minutes)}
    if len(parts) == 1:
        return parts[0]
    return lang.gettext("%(days)s %(hours)s") % {"days": parts[0], "hours": parts[1]}


def remaining_text(lang: Language, left: Remaining) -> str:
    """``还剩 1 天 3 小时`` or ``已超时 5 小时`` (``1 day 3 hours left``, ``5 hours overdue``)."""
    length = span_text(lang, left.minutes)
    if left.minutes < 0:
        return lang.gettext("%(time)s overdue") % {"time": length}
    return lang.gettext("%(time)s left") % {"time": length}


def age_text(lang: Language, hours: float) -> str:
    """How long something has waited, in days and hours (the queue's ``age_hours``)."""
    return span_text(lang, math.floor(max(0.0, hours) * 60))


@dataclass(frozen=True)
class Summary:
    """What a member still owes in the current period: days left until it ends, the people
    (links) still owed a contact, and the contacts owed in all."""

    period: str
    whole_year: bool
    end: date
    days_left: int
    people_owed: int
    contacts_owed: int
    people_overdue: int = 0

    @property
    def level(self) -> Level:
        """``overdue`` when a link is past its due date, ``soon`` when contacts are still
        owed and the period ends within :data:`SOON_DAYS`, ``later`` otherwise."""
        if self.people_overdue:
            return "overdue"
        if self.contacts_owed and self.days_left <= SOON_DAYS:
            return "soon"
        return "later"


def period_summary(links: Iterable[Mapping[str, Any]], today: date, rule: ContactRule) -> Summary:
    """The summary of a member's links (each with the contacts service's ``standing``)."""
    period = rule.period_of(today)
    standings = [link["standing"] for link in links]
    owed = [max(0, int(s["required"]) - int(s["counted"])) for s in standings]
    late = [due(s.get("next_due"), today) for s in standings]
    return Summary(
        period=period.label,
        whole_year=rule.period_months == 12,
        end=period.end,
        days_left=(period.end - today).days,
        people_owed=sum(1 for n in owed if n),
        contacts_owed=sum(owed),
        people_overdue=sum(1 for d in late if d is not None and d.level == "overdue"),
    )


def summary_text(lang: Language, summary: Summary) -> str:
    """``本年度还剩 28 天，还需联系 2 人 3 次``; when nothing is owed,
    ``本年度还剩 28 天，所有联系对象均已达标``."""
    n = lang.number(summary.days_left)
    if summary.whole_year:
        left = lang.ngettext(
            "%(n)s day left in the year", "%(n)s days left in the year", summary.days_left
        )
    else:
        left = lang.ngettext(
            "%(n)s day left in the period", "%(n)s days left in the period", summary.days_left
        )
    left = left % {"n": n}
    if not summary.contacts_owed:
        return lang.gettext("%(left)s; every contact is met") % {"left": left}
    people = lang.ngettext("%(n)s person", "%(n)s people", summary.people_owed) % {
        "n": lang.number(summary.people_owed)
    }
    times = lang.ngettext("%(n)s contact", "%(n)s contacts", summary.contacts_owed) % {
        "n": lang.number(summary.contacts_owed)
    }
    return lang.gettext("%(left)s; still to contact: %(people)s, %(times)s") % {
        "left": left,
        "people": people,
        "times": times,
    }
