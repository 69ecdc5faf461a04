"""The compliance view's staff questions answered from the aggregates
(:mod:`reports.projections.aggregates`): the same answers as the scan in :mod:`reports.views`,
from rows whose number does not grow with the city's links.

A period after the aggregates' horizon, or aggregates computed under another contact rule,
is left to the scan (:meth:`AggregateView.covers` says which).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any
from uuid import UUID

from compliance import ContactRule, Period
from compliance.rule import Status
from eventspine.errors import NotFoundError
from eventspine.projection import Tx
from reports.models import ComplianceReport, GroupTally, LinkCompliance, MonthCompliance, Tally
from reports.projections.aggregates import NO_DUE, period_months, rule_key
from reports.views import _tally, lineage, no_such_link

COLUMNS = (
    "link_id, upper_member_id, lower_member_id, upper_tier, unit_id, assigned_on, "
    "unassigned_on, active_from, active_until, required, counted, status, next_due, "
    "last_contact_on, period_start"
)


class AggregateView:
    """Roll-ups, pages and the monthly chart of a period from ``agg_*``."""

    def __init__(self, reader: Tx, rule: ContactRule, prefix: str = "") -> None:
        self.reader = reader
        self.rule = rule
        self.p = prefix

    async def covers(self, period: Period) -> bool:
        """Whether the aggregates hold ``period`` under this rule."""
        row = await self.reader.fetchrow(f"SELECT rule, horizon FROM {self.p}agg_meta WHERE id = 1")
        if row is None or str(row[0]) != rule_key(self.rule):
            return False
        return row[1] is None or period.start <= date.fromisoformat(str(row[1]))

    async def linked_members(self) -> dict[str, int] | None:
        """Active members with an open link above them, per tier (``None``: no aggregates
        under this rule, or none yet: the caller counts them from the detail rows)."""
        rule = await self.reader.fetchval(f"SELECT rule FROM {self.p}agg_meta WHERE id = 1")
        if rule is None or str(rule) != rule_key(self.rule):
            return None
        rows = await self.reader.fetch(f"SELECT tier, n FROM {self.p}agg_linked")
        return {str(r[0]): int(r[1]) for r in rows}

    async def _units(self, unit_id: UUID | None) -> tuple[dict[str, str | None], set[str] | None]:
        rows = await self.reader.fetch(f"SELECT unit_id, parent_unit_id FROM {self.p}r_units")
        parents = {str(r[0]): (str(r[1]) if r[1] else None) for r in rows}
        if unit_id is None:
            return parents, None
        if str(unit_id) not in parents:
            raise NotFoundError("unit_id", "no such union organisation", code="unit_not_found")
        return parents, {u for u in parents if str(unit_id) in lineage(u, parents)}

    async def report(
        self,
        period: Period,
        today: date,
        *,
        unit_id: UUID | None = None,
        tier: str | None = None,
        upper_member_id: UUID | None = None,
        status: Status | None = None,
        limit: int = 50,
        offset: int = 0,
        after: UUID | None = None,
    ) -> ComplianceReport:
        """What :meth:`reports.views.ComplianceView.report` answers for staff (no ``within``)."""
        parents, units = await self._units(unit_id)
        start = period.start.isoformat()
        rows = await self.reader.fetch(
            f"SELECT unit_id, upper_tier, status, n FROM {self.p}agg_tallies "
            "WHERE period_start = $1",
            start,
        )
        city = Tally()
        by_tier: defaultdict[str, Tally] = defaultdict(Tally)
        by_unit: defaultdict[str, Tally] = defaultdict(Tally)
        count = 0
        for unit, upper_tier, kind, n in (tuple(r) for r in rows):
            # A unit outside the tree counts as its own lineage, as the scan's does.
            if units is not None and str(unit_id) not in lineage(str(unit), parents):
                continue
            for tally in (
                city,
                by_tier[str(upper_tier)],
                *(by_unit[u] for u in lineage(str(unit), parents)),
            ):
                _add(tally, kind, int(n))
            if (tier is None or upper_tier == tier) and (status is None or kind == status):
                count += int(n)
        data, count = await self._page(
            period, today, units, tier, upper_member_id, status, limit, offset, count, after
        )
        return ComplianceReport(
            period=period.label,
            city=_tally(city),
            by_tier=[GroupTally(key=k, tally=_tally(v)) for k, v in sorted(by_tier.items())],
            by_unit=[GroupTally(key=k, tally=_tally(v)) for k, v in sorted(by_unit.items())],
            data=data,
            count=count,
        )

    async def _page(
        self,
        period: Period,
        today: date,
        units: set[str] | None,
        tier: str | None,
        upper_member_id: UUID | None,
        status: Status | None,
        limit: int,
        offset: int,
        count: int,
        after: UUID | None = None,
    ) -> tuple[list[LinkCompliance], int]:
        """One page in the view's order, read along an index (from the key of ``after``
        on, when given); and the filters' count."""
        over = period.end < today
        where = ["period_start = $1"]
        args: list[Any] = [period.start.isoformat()]
        for column, value in (
            ("upper_tier", tier),
            ("status", status),
            ("upper_member_id", None if upper_member_id is None else str(upper_member_id)),
        ):
            if value is not None:
                args.append(value)
                where.append(f"{column} = ${len(args)}")
        if units is not None:
            marks = ", ".join(f"${len(args) + 1 + i}" for i in range(len(units)))
            args.extend(sorted(units))
            where.append(f"unit_id IN ({marks})")
        order = "severity, link_id" if over else "severity, next_due, link_id"
        clause = " AND ".join(where)
        page = clause
        if after is not None:
            key = await self.reader.fetchrow(
                f"SELECT severity, next_due, link_id, unit_id FROM {self.p}agg_standings "
                "WHERE period_start = $1 AND link_id = $2",
                period.start.isoformat(),
                str(after),
            )
            if key is None or (units is not None and str(key[3]) not in units):
                raise no_such_link()
            values = [key[0], key[2]] if over else [key[0], key[1], key[2]]
            marks = ", ".join(f"${len(args) + 1 + i}" for i in range(len(values)))
            page = f"{clause} AND ({order}) > ({marks})"
        else:
            values = []
        if upper_member_id is not None:
            # One member's links: few, found by their index; counted as they are.
            count = int(
                await self.reader.fetchval(
                    f"SELECT count(*) FROM {self.p}agg_standings WHERE {clause}", *args
                )
            )
        rows = await self.reader.fetch(
            f"SELECT {COLUMNS} FROM {self.p}agg_standings WHERE {page} ORDER BY {order} "
            f"LIMIT {int(limit)} OFFSET {int(offset)}",
            *args,
            *values,
        )
        return [_link(period, today, over, r) for r in rows], count

    async def monthly(
        self, period: Period, today: date, unit_id: UUID | None = None
    ) -> list[MonthCompliance]:
        """What :meth:`reports.views.ComplianceView.monthly` answers for staff."""
        parents, units = await self._units(unit_id)
        start = period.start.isoformat()

        def inside(unit: Any) -> bool:
            return units is None or str(unit_id) in lineage(str(unit), parents)

        links = sum(
            int(r[1])
            for r in await self.reader.fetch(
                f"SELECT unit_id, n FROM {self.p}agg_tallies WHERE period_start = $1", start
            )
            if inside(r[0])
        )
        firsts: defaultdict[tuple[str, str], int] = defaultdict(int)
        for r in await self.reader.fetch(
            f"SELECT unit_id, kind, month, n FROM {self.p}agg_reached WHERE period_start = $1",
            start,
        ):
            if inside(r[0]):
                firsts[(str(r[1]), str(r[2]))] += int(r[3])
        months = []
        behind = met = 0
        last = min(period.end, today).strftime("%Y-%m")
        for month in period_months(period):
            if month > last or period.start > today:
                break
            behind += firsts[("behind", month)]
            met += firsts[("met", month)]
            tally = Tally(links=links, met=met, behind=behind - met, none=links - behind)
            months.append(MonthCompliance(month=month, tally=_tally(tally)))
        return months


def _add(tally: Tally, status: str, n: int) -> None:
    tally.links += n
    setattr(tally, status, getattr(tally, status) + n)


def _link(period: Period, today: date, over: bool, r: Any) -> LinkCompliance:
    ended = date.fromisoformat(str(r[6])) if r[6] else None
    active_from = date.fromisoformat(str(r[7]))
    active_until = date.fromisoformat(str(r[8]))
    due = str(r[12])
    return LinkCompliance(
        link_id=r[0],
        upper_member_id=r[1],
        lower_member_id=r[2],
        upper_tier=r[3],
        lower_unit_id=r[4],
        assigned_on=date.fromisoformat(str(r[5])),
        unassigned_on=ended,
        ended=ended is not None and ended <= today,
        active_from=active_from,
        active_until=active_until,
        whole_period=(active_from, active_until) == (period.start, period.end),
        required=r[9],
        counted=r[10],
        last_contact_on=date.fromisoformat(str(r[13])) if r[13] else None,
        status=r[11],
        next_due=None if over or due == NO_DUE else date.fromisoformat(due),
    )
