"""The contact rule: "every year, each member contacts each of their contacts at least twice".

This module is the one definition of compliance. The contacts service uses it for the due
list, the reports service for the compliance view, so the two can never disagree.

* **Period**: calendar periods of ``period_months`` months starting in January (12: the year).
* **Required contacts**: ``minimum`` per period for a link active the whole period. A link
  active for only part of it (started or ended mid-period) owes its share, rounded to the
  nearest whole contact (halves up), and at least 1: a link started on 1 July owes 1.
* **Counted contacts**: contacts dated inside the period and inside the link's active days,
  retracted ones excluded, corrected ones at their corrected date.
* **Status**: ``met`` when counted >= required, ``behind`` when some but fewer, ``none`` when 0.
* **Due dates**: the required contacts are spread evenly over the link's active days in the
  period; the next one is due at the end of its share (for 2 a year: 30 June, then 31 December).
  A link that has met the rule has no due date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["met", "behind", "none"]


@dataclass(frozen=True)
class Period:
    """A rule period: ``start`` and ``end`` inclusive."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """Length in days."""
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        """``2026`` for a year, ``2026-H1``/``2026-Q3`` for shorter periods."""
        months = (self.end.month - self.start.month) + 1
        if months == 12:
            return str(self.start.year)
        index = (self.start.month - 1) // months + 1
        return f"{self.start.year}-{'H' if months == 6 else 'Q' if months == 3 else 'P'}{index}"


@dataclass(frozen=True)
class LinkStanding:
    """Where one link stands in one period."""

    required: int
    counted: int
    status: Status
    next_due: date | None


class ContactRule(BaseModel):
    """The rule's parameters; the federation's handbook says 2 contacts per year."""

    model_config = ConfigDict(frozen=True)

    minimum: int = Field(2, ge=1, le=52, description="contacts required per full period")
    period_months: Literal[12, 6, 3] = Field(12, description="length of a period in months")

    def period_of(self, day: date) -> Period:
        """The period containing ``day``."""
        first_month = ((day.month - 1) // self.period_months) * self.period_months + 1
        start = date(day.year, first_month, 1)
        end_month = first_month + self.period_months
        end = (
            date(day.year + 1, 1, 1) if end_month > 12 else date(day.year, end_month, 1)
        ) - timedelta(days=1)
        return Period(start, end)

    def active_window(
        self, period: Period, active_from: date, active_to: date | None
    ) -> tuple[date, date] | None:
        """The days of ``period`` on which the link was active (``active_to`` exclusive)."""
        first = max(period.start, active_from)
        last = period.end if active_to is None else min(period.end, active_to - timedelta(days=1))
        return (first, last) if first <= last else None

    def required(self, period: Period, active_from: date, active_to: date | None) -> int:
        """Contacts the link owes in ``period`` (0 if it was not active in it)."""
        window = self.active_window(period, active_from, active_to)
        if window is None:
            return 0
        active_days = (window[1] - window[0]).days + 1
        return max(1, math.floor(self.minimum * active_days / period.days + 0.5))

    def standing(
        self,
        period: Period,
        active_from: date,
        active_to: date | None,
        contact_dates: list[date],
    ) -> LinkStanding:
        """Required, counted, status and next due date of one link in one period."""
        window = self.active_window(period, active_from, active_to)
        required = self.required(period, active_from, active_to)
        if window is None:
            return LinkStanding(0, 0, "met", None)
        counted = sum(1 for d in contact_dates if window[0] <= d <= window[1])
        status: Status = "met" if counted >= required else "behind" if counted else "none"
        next_due = None
        if counted < required:
            span = (window[1] - window[0]).days + 1
            share = (counted + 1) * span / required
            next_due = window[0] + timedelta(days=math.ceil(share) - 1)
        return LinkStanding(required, counted, status, next_due)
