"""The notify service's rules: pure functions, "now" passed in.

* **Identity**: a notification's id is the uuid5 of what it is about (member, kind, subject,
  period, due date), so the same decision made twice (two instances, a restart, a replayed
  event) names the same notification and is appended once.
* **Quiet hours**: nothing is sent between ``quiet_start`` and ``quiet_end`` in the
  federation's time zone (a window may cross midnight, 22:00–07:00 by default).
* **Cadence**: in each rule period the digests are due on ``digest_day`` of every month, and
  every ``final_month_weekday`` of the period's last month; the digest of an occasion says what
  is still owed when it is issued (so what was done since is never in it).
* **Retries**: a failed send waits ``base * 2**(attempt-1)`` seconds, at most ``maximum``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from compliance.rule import Period

NAMESPACE = uuid.UUID("8f7c1f8e-3a59-5d1e-9b7e-6f2a4c0d9e15")
"""The uuid5 namespace of notification ids (fixed forever: ids are in the events)."""


def notification_id(
    member_id: uuid.UUID, kind: str, subject: str, period: str, due_on: date | None
) -> uuid.UUID:
    """The id of the notification about ``(member, kind, subject, period, due date)``."""
    due = due_on.isoformat() if due_on else ""
    return uuid.uuid5(NAMESPACE, f"{member_id}|{kind}|{subject}|{period}|{due}")


@dataclass(frozen=True)
class QuietHours:
    """The federation's quiet hours in its time zone."""

    start: time
    end: time
    zone: tzinfo

    def quiet(self, moment: datetime) -> bool:
        """Whether ``moment`` falls in the quiet hours."""
        local = moment.astimezone(self.zone).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` itself outside the quiet hours, else when they end."""
        if not self.quiet(moment):
            return moment
        local = moment.astimezone(self.zone)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end


@dataclass(frozen=True)
class Cadence:
    """When the contacts-due digests are due in a period."""

    day: int = 1
    final_month_weekday: int | None = 0

    def occasions(self, period: Period) -> list[date]:
        """Every date a digest is due in ``period``, in order."""
        found: set[date] = set()
        month = date(period.start.year, period.start.month, 1)
        while month <= period.end:
            found.add(month.replace(day=self.day))
            month = (month + timedelta(days=32)).replace(day=1)
        if self.final_month_weekday is not None:
            day = period.end.replace(day=1)
            while day <= period.end:
                if day.weekday() == self.final_month_weekday:
                    found.add(day)
                day += timedelta(days=1)
        return sorted(found)

    def latest(self, period: Period, today: date) -> date | None:
        """The latest occasion on or before ``today`` in ``period`` (None before the first)."""
        passed = [day for day in self.occasions(period) if day <= today]
        return passed[-1] if passed else None


def retry_delay(attempt: int, base: float, maximum: float) -> timedelta:
    """How long to wait after failed attempt number ``attempt`` (from 1)."""
    return timedelta(seconds=min(maximum, base * 2 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class Owing:
    """One link that still owes contacts in the period."""

    link_id: uuid.UUID
    lower_member_id: uuid.UUID
    owed: int
    next_due: date


def digest_text(
    owing: list[Owing], period: Period, today: date, names: dict[uuid.UUID, str]
) -> str:
    """The digest's sentence: "本年度还剩 28 天：还需联系 2 人共 3 次：吴芳洋、罗磊。"

    ``owing`` soonest first; a lower member without a known name is left out of the list of
    names (the count still says them)."""
    left = (period.end - today).days
    where = "本年度" if period.label.isdigit() else "本期"
    people = len(owing)
    times = sum(item.owed for item in owing)
    text = f"{where}还剩 {left} 天：还需联系 {people} 人共 {times} 次"
    known = [names[item.lower_member_id] for item in owing if item.lower_member_id in names]
    if known:
        shown = "、".join(known[:5]) + ("…" if len(known) > 5 else "")
        text += f"：{shown}"
    return text + "。"


def due_phrase(next_due: date, today: date) -> str:
    """ "已逾期 3 天" / "今天到期" / "还剩 5 天" for one link's next due date."""
    days = (next_due - today).days
    if days < 0:
        return f"已逾期 {-days} 天"
    if days == 0:
        return "今天到期"
    return f"还剩 {days} 天"
