"""Satisfaction (满意度): how the raisers rated the answers, per member, unit and department.

A suggestion counts once in a period, with its latest rating in the period (a reopened one
rated again counts as its last rating says). The satisfaction rate is the 12351 hotline's:
satisfied and basically satisfied over all rated, in percent.

Per member: every member who held the suggestion or acted on it at the top of the chain.
Per unit: the enterprise union of the intake link it arrived by, or else the unit of the
member it speaks for (the worker raised for, or the raiser). Per department: the department
it was assigned to.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from eventspine.projection import Tx

RATINGS = ("satisfied", "basically_satisfied", "dissatisfied")
By = Literal["unit", "department"]


class Satisfaction(BaseModel):
    """The ratings of one member, unit or department in a period."""

    key: str = Field(description="the member id, unit id or department code")
    ratings: dict[str, int] = Field(description="satisfied, basically_satisfied, dissatisfied")
    rated: int
    satisfied_pct: float | None = Field(
        description="(satisfied + basically satisfied) / rated x 100; null when none was rated"
    )


def rate(counts: Counter[str]) -> float | None:
    """The satisfaction rate of some ratings (None without any)."""
    rated = sum(counts.values())
    if not rated:
        return None
    return round(100 * (counts["satisfied"] + counts["basically_satisfied"]) / rated, 1)


def summary(key: str, counts: Counter[str]) -> Satisfaction:
    """One row of figures."""
    return Satisfaction(
        key=key,
        ratings={r: counts[r] for r in RATINGS},
        rated=sum(counts.values()),
        satisfied_pct=rate(counts),
    )


class SatisfactionViews:
    """Questions over ``r_suggestion_ratings`` and the rows beside it."""

    def __init__(self, reader: Tx, prefix: str = "") -> None:
        self.reader = reader
        self.p = prefix

    async def _latest(self, start: date, end: date) -> dict[str, str]:
        """Each suggestion's latest rating in the period."""
        rows = await self.reader.fetch(
            f"SELECT suggestion_id, rating, rated_at, event_id FROM {self.p}r_suggestion_ratings "
            "WHERE rated_at >= $1 AND rated_at < $2 ORDER BY rated_at, event_id",
            start.isoformat(),
            (end + timedelta(days=1)).isoformat(),
        )
        return {str(r[0]): str(r[1]) for r in rows}

    async def by_member(self, start: date, end: date) -> dict[str, Counter[str]]:
        """Ratings per member who held (or acted on) the suggestions rated in the period."""
        latest = await self._latest(start, end)
        counts: dict[str, Counter[str]] = {}
        for row in await self.reader.fetch(
            f"SELECT suggestion_id, member_id FROM {self.p}r_suggestion_holders"
        ):
            rating = latest.get(str(row[0]))
            if rating is not None:
                counts.setdefault(str(row[1]), Counter())[rating] += 1
        return counts

    async def grouped(self, by: By, start: date, end: date) -> list[Satisfaction]:
        """Ratings in the period per unit or per department, the most rated first."""
        latest = await self._latest(start, end)
        p = self.p
        if by == "department":
            query = f"SELECT suggestion_id, department FROM {p}r_suggestions"
        else:
            query = (
                f"SELECT s.suggestion_id, coalesce(u.unit_id, m.unit_id) FROM {p}r_suggestions s "
                f"LEFT JOIN {p}r_suggestion_units u ON u.suggestion_id = s.suggestion_id "
                f"LEFT JOIN {p}r_members m ON m.member_id = coalesce(s.on_behalf_of, s.raised_by)"
            )
        counts: dict[str, Counter[str]] = {}
        for row in await self.reader.fetch(query):
            rating = latest.get(str(row[0]))
            if rating is not None and row[1] is not None:
                counts.setdefault(str(row[1]), Counter())[rating] += 1
        rows = [summary(key, c) for key, c in counts.items()]
        return sorted(rows, key=lambda s: (-s.rated, s.key))
