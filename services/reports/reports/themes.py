"""Themes: what workers raise, per unit and period, by category (counts and the monthly trend).

A suggestion counts in the period it was raised, under its category, in its unit: the
enterprise union of the intake link it arrived by, or else the unit of the member it speaks
for (the worker raised for, or the raiser).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from pydantic import BaseModel, Field

from eventspine.projection import Tx


class ThemeCount(BaseModel):
    """How many suggestions of one category (in one unit, or one month)."""

    key: str = Field(description="the unit id or the month (YYYY-MM); empty for the city")
    category: str
    count: int


class Themes(BaseModel):
    """What was raised in a period: the city's top categories, per unit, per month."""

    period: str
    top: list[ThemeCount] = Field(description="the city's categories, the most raised first")
    by_unit: list[ThemeCount]
    by_month: list[ThemeCount]


class ThemeViews:
    """Questions over ``r_suggestions`` about what was raised."""

    def __init__(self, reader: Tx, prefix: str = "") -> None:
        self.reader = reader
        self.p = prefix

    async def themes(self, label: str, start: date, end: date) -> Themes:
        """The categories raised from ``start`` to ``end`` (inclusive)."""
        p = self.p
        rows = await self.reader.fetch(
            f"SELECT s.category, s.raised_at, coalesce(u.unit_id, m.unit_id) "
            f"FROM {p}r_suggestions s "
            f"LEFT JOIN {p}r_suggestion_units u ON u.suggestion_id = s.suggestion_id "
            f"LEFT JOIN {p}r_members m ON m.member_id = coalesce(s.on_behalf_of, s.raised_by) "
            "WHERE s.raised_at >= $1 AND s.raised_at < $2",
            start.isoformat(),
            (end + timedelta(days=1)).isoformat(),
        )
        city: Counter[str] = Counter()
        units: Counter[tuple[str, str]] = Counter()
        months: Counter[tuple[str, str]] = Counter()
        for category, raised_at, unit in rows:
            city[str(category)] += 1
            if unit is not None:
                units[(str(unit), str(category))] += 1
            months[(str(raised_at)[:7], str(category))] += 1

        def counted(counts: Counter[tuple[str, str]]) -> list[ThemeCount]:
            return [
                ThemeCount(key=key, category=category, count=n)
                for (key, category), n in sorted(
                    counts.items(), key=lambda i: (i[0][0], -i[1], i[0][1])
                )
            ]

        top = [
            ThemeCount(key="", category=c, count=n)
            for c, n in sorted(city.items(), key=lambda i: (-i[1], i[0]))
        ]
        return Themes(period=label, top=top, by_unit=counted(units), by_month=counted(months))
