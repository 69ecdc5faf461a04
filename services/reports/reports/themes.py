"""Themes: what workers raise, per unit and period, by category and by tag, against the
period before (the trend), with a few suggestions per theme for staff to read.

A suggestion counts in the period it was raised, under its category and each tag it carries
now, in its unit: the enterprise union of the intake link it arrived by, or else the unit of
the member it speaks for (the worker raised for, or the raiser). Examples name suggestions by
id only: staff read them where the feedback service shows them, never from an event.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel, Field

from eventspine.projection import Tx

EXAMPLES_PER_THEME = 3


class ThemeCount(BaseModel):
    """How many suggestions of one category (in one unit, or one month)."""

    key: str = Field(description="the unit id or the month (YYYY-MM); empty for the city")
    category: str
    count: int
    previous: int = Field(0, description="the same count in the period before")


class TagCount(BaseModel):
    """How many suggestions carry one tag (in one unit; empty key: the city)."""

    key: str = Field(description="the unit id; empty for the city")
    tag: str
    count: int
    previous: int = Field(0, description="the same count in the period before")


class ThemeExample(BaseModel):
    """A suggestion staff can read to see what a theme is about (the latest few)."""

    theme: str = Field(description="category:<code> or tag:<code>")
    suggestion_id: str
    raised_at: str
    unit_id: str | None


class Themes(BaseModel):
    """What was raised in a period: the city's top categories and tags with the period before,
    per unit, per month, and examples."""

    period: str
    previous_period: str = Field("", description="the period the trend compares with")
    top: list[ThemeCount] = Field(description="the city's categories, the most raised first")
    top_tags: list[TagCount] = Field(
        default_factory=list, description="the city's tags, the most raised first"
    )
    by_unit: list[ThemeCount]
    by_unit_tags: list[TagCount] = Field(default_factory=list)
    by_month: list[ThemeCount]
    examples: list[ThemeExample] = Field(default_factory=list)


@dataclass(frozen=True)
class Raised:
    """One suggestion as themes count it."""

    suggestion_id: str
    category: str
    raised_at: str
    unit: str | None
    tags: tuple[str, ...]


def _ordered(counts: Counter[tuple[str, str]]) -> list[tuple[str, str, int]]:
    return [
        (key, theme, n)
        for (key, theme), n in sorted(counts.items(), key=lambda i: (i[0][0], -i[1], i[0][1]))
    ]


def tally(now: list[Raised], before: list[Raised], label: str, previous: str) -> Themes:
    """Count what was raised in the period (``now``) against the period before (pure)."""

    def counts(rows: list[Raised]) -> tuple[Counter[str], Counter[str], Counter[tuple[str, str]]]:
        city: Counter[str] = Counter(r.category for r in rows)
        tags: Counter[str] = Counter(t for r in rows for t in r.tags)
        units: Counter[tuple[str, str]] = Counter(
            (r.unit, r.category) for r in rows if r.unit is not None
        )
        return city, tags, units

    city, tags, units = counts(now)
    old_city, old_tags, old_units = counts(before)
    unit_tags: Counter[tuple[str, str]] = Counter(
        (r.unit, t) for r in now if r.unit is not None for t in r.tags
    )
    old_unit_tags: Counter[tuple[str, str]] = Counter(
        (r.unit, t) for r in before if r.unit is not None for t in r.tags
    )
    months: Counter[tuple[str, str]] = Counter((r.raised_at[:7], r.category) for r in now)
    examples: dict[str, list[Raised]] = defaultdict(list)
    for row in sorted(now, key=lambda r: (r.raised_at, r.suggestion_id), reverse=True):
        for theme in (f"category:{row.category}", *(f"tag:{t}" for t in row.tags)):
            if len(examples[theme]) < EXAMPLES_PER_THEME:
                examples[theme].append(row)
    # A theme that was raised before but not now still shows, with a count of 0: a fall.
    for category in old_city:
        city.setdefault(category, 0)
    for tag in old_tags:
        tags.setdefault(tag, 0)
    return Themes(
        period=label,
        previous_period=previous,
        top=[
            ThemeCount(key="", category=c, count=n, previous=old_city[c])
            for c, n in sorted(city.items(), key=lambda i: (-i[1], i[0]))
        ],
        top_tags=[
            TagCount(key="", tag=t, count=n, previous=old_tags[t])
            for t, n in sorted(tags.items(), key=lambda i: (-i[1], i[0]))
        ],
        by_unit=[
            ThemeCount(key=k, category=c, count=n, previous=old_units[(k, c)])
            for k, c, n in _ordered(units)
        ],
        by_unit_tags=[
            TagCount(key=k, tag=t, count=n, previous=old_unit_tags[(k, t)])
            for k, t, n in _ordered(unit_tags)
        ],
        by_month=[ThemeCount(key=k, category=c, count=n) for k, c, n in _ordered(months)],
        examples=[
            ThemeExample(
                theme=theme, suggestion_id=r.suggestion_id, raised_at=r.raised_at, unit_id=r.unit
            )
            for theme in sorted(examples)
            for r in examples[theme]
        ],
    )


class ThemeViews:
    """Questions over ``r_suggestions`` and ``r_suggestion_tags`` about what was raised."""

    def __init__(self, reader: Tx, prefix: str = "") -> None:
        self.reader = reader
        self.p = prefix

    async def raised(self, start: date, end: date) -> list[Raised]:
        """The suggestions raised from ``start`` to ``end`` (inclusive), with their tags."""
        p = self.p
        rows = await self.reader.fetch(
            f"SELECT s.suggestion_id, s.category, s.raised_at, coalesce(u.unit_id, m.unit_id) "
            f"FROM {p}r_suggestions s "
            f"LEFT JOIN {p}r_suggestion_units u ON u.suggestion_id = s.suggestion_id "
            f"LEFT JOIN {p}r_members m ON m.member_id = coalesce(s.on_behalf_of, s.raised_by) "
            "WHERE s.raised_at >= $1 AND s.raised_at < $2",
            start.isoformat(),
            (end + timedelta(days=1)).isoformat(),
        )
        tags: dict[str, list[str]] = defaultdict(list)
        for sid, tag in await self.reader.fetch(
            f"SELECT t.suggestion_id, t.tag FROM {p}r_suggestion_tags t "
            f"JOIN {p}r_suggestions s ON s.suggestion_id = t.suggestion_id "
            "WHERE s.raised_at >= $1 AND s.raised_at < $2 ORDER BY t.tag",
            start.isoformat(),
            (end + timedelta(days=1)).isoformat(),
        ):
            tags[str(sid)].append(str(tag))
        return [
            Raised(
                str(sid),
                str(category),
                str(raised_at),
                None if unit is None else str(unit),
                tuple(tags.get(str(sid), ())),
            )
            for sid, category, raised_at, unit in rows
        ]

    async def themes(
        self,
        label: str,
        start: date,
        end: date,
        previous: tuple[str, date, date] | None = None,
    ) -> Themes:
        """What was raised from ``start`` to ``end`` (inclusive), against ``previous``
        (its label, start and end) when given."""
        before = await self.raised(previous[1], previous[2]) if previous else []
        return tally(await self.raised(start, end), before, label, previous[0] if previous else "")
