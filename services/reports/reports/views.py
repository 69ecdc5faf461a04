"""The compliance view computed from the projection's rows with the one contact rule."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from compliance import ContactRule, Period
from compliance.rule import Status
from eventspine.errors import DomainError, NotFoundError
from eventspine.projection import Tx
from reports.models import (
    ComplianceReport,
    Exposure,
    GroupTally,
    LinkCompliance,
    MonthCompliance,
    OverSpanMember,
    Tally,
    TallyPublic,
    UnlinkedMember,
)
from reports.rules import least_compliant_first, link_standing

if TYPE_CHECKING:
    from reports.aggregate_views import AggregateView

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?P<kind>[HQ])(?P<index>[1-4]))?$")
DEFAULT_SPANS = {"leader": 5, "committee": 5, "representative": 10}


PERIOD_PATTERNS = {12: r"^20\d\d$", 6: r"^20\d\d-H[12]$", 3: r"^20\d\d-Q[1-4]$"}
"""The form of a period label for a rule counting periods of 12, 6 or 3 months (the OpenAPI
document states the configured one on every ``period`` parameter)."""


def period_pattern(rule: ContactRule) -> str:
    """The pattern a period label of ``rule`` matches (years 2000 to 2099)."""
    return PERIOD_PATTERNS[rule.period_months]


def parse_period(label: str, rule: ContactRule) -> Period:
    """``2026`` (a year), ``2026-H2`` or ``2026-Q3``, matching the rule's period length."""
    pattern = period_pattern(rule)
    match = _PERIOD.match(label)
    if match is None or not re.match(pattern, label):
        example = {12: "2026", 6: "2026-H1", 3: "2026-Q3"}[rule.period_months]
        raise DomainError(
            "period",
            f"expected a period like {example}: the contact rule counts periods of "
            f"{rule.period_months} months",
            code="pattern_mismatch",
            location="query",
            pattern=pattern,
        )
    months = {None: 12, "H": 6, "Q": 3}[match["kind"]]
    index = int(match["index"] or 1)
    return rule.period_of(date(int(match["year"]), (index - 1) * months + 1, 1))


def lineage(unit: str, parents: dict[str, str | None]) -> list[str]:
    """The unit and its ancestors, up to the city federation."""
    chain: list[str] = []
    current: str | None = unit
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def _tally(tally: Tally) -> TallyPublic:
    return TallyPublic(**tally.model_dump(), compliance_pct=round(tally.compliance * 100, 1))


class ComplianceView:
    """Questions about compliance, answered from the ``r_*`` tables."""

    def __init__(
        self,
        reader: Tx,
        rule: ContactRule,
        prefix: str = "",
        aggregates: AggregateView | None = None,
    ) -> None:
        self.reader = reader
        self.rule = rule
        self.p = prefix
        self.aggregates = aggregates
        """Staff's questions of the periods it covers are answered from the aggregates;
        without it (or for a member's part of the tree) by the scan below."""

    async def contact_dates(self, period: Period) -> dict[str, list[date]]:
        """The dates of the period's counted (not retracted) contacts, per link id."""
        contacts: dict[str, list[date]] = defaultdict(list)
        for row in await self.reader.fetch(
            f"SELECT link_id, contacted_on FROM {self.p}r_contacts WHERE retracted = 0 "
            "AND contacted_on >= $1 AND contacted_on <= $2",
            period.start.isoformat(),
            period.end.isoformat(),
        ):
            contacts[str(row[0])].append(date.fromisoformat(str(row[1])))
        return contacts

    async def chosen_links(
        self, period: Period, today: date, unit_id: UUID | None, within: set[UUID] | None
    ) -> tuple[list[LinkCompliance], dict[str, str | None]]:
        """The period's links in ``unit_id`` (with its sub-units) and, when given, those with an
        end in ``within``: the lower member is one of them (links below them, their own link
        upwards), or the upper member is (a link one of them held, even one that ended in the
        period after the lower member moved on); and the unit tree they were chosen with."""
        parents = await self.unit_tree()
        if unit_id is not None and str(unit_id) not in parents:
            raise NotFoundError("unit_id", "no such union organisation", code="unit_not_found")
        links = await self.links(period, today)
        if within is not None:
            links = [c for c in links if c.lower_member_id in within or c.upper_member_id in within]
        if unit_id is not None:
            links = [c for c in links if str(unit_id) in lineage(str(c.lower_unit_id), parents)]
        return links, parents

    async def links(self, period: Period, today: date) -> list[LinkCompliance]:
        """Every link active in ``period`` with its standing, the least compliant first."""
        p = self.p
        rows = await self.reader.fetch(
            f"SELECT l.link_id, l.upper_member_id, l.lower_member_id, u.tier, m.unit_id, "
            f"l.assigned_on, l.unassigned_on FROM {p}r_links l "
            f"JOIN {p}r_members u ON u.member_id = l.upper_member_id "
            f"JOIN {p}r_members m ON m.member_id = l.lower_member_id "
            "WHERE l.assigned_on <= $2 AND (l.unassigned_on IS NULL OR l.unassigned_on > $1)",
            period.start.isoformat(),
            period.end.isoformat(),
        )
        contacts = await self.contact_dates(period)
        result = []
        for row in rows:
            assigned = date.fromisoformat(str(row[5]))
            ended = date.fromisoformat(str(row[6])) if row[6] else None
            dates = sorted(contacts.get(str(row[0]), []))
            standing = link_standing(self.rule, period, today, assigned, ended, dates)
            window = self.rule.active_window(period, assigned, ended)
            if standing is None or window is None:
                continue
            result.append(
                LinkCompliance(
                    link_id=row[0],
                    upper_member_id=row[1],
                    lower_member_id=row[2],
                    upper_tier=row[3],
                    lower_unit_id=row[4],
                    assigned_on=assigned,
                    unassigned_on=ended,
                    ended=ended is not None and ended <= today,
                    active_from=window[0],
                    active_until=window[1],
                    whole_period=window == (period.start, period.end),
                    required=standing.required,
                    counted=standing.counted,
                    last_contact_on=dates[-1] if dates else None,
                    status=standing.status,
                    next_due=standing.next_due,
                )
            )
        result.sort(key=least_compliant_first)
        return result

    async def unit_tree(self) -> dict[str, str | None]:
        """``{unit_id: parent_unit_id}``."""
        rows = await self.reader.fetch(f"SELECT unit_id, parent_unit_id FROM {self.p}r_units")
        return {str(r[0]): (str(r[1]) if r[1] else None) for r in rows}

    async def report(
        self,
        period_label: str,
        today: date,
        *,
        unit_id: UUID | None = None,
        tier: str | None = None,
        upper_member_id: UUID | None = None,
        status: Status | None = None,
        within: set[UUID] | None = None,
        limit: int = 50,
        offset: int = 0,
        after: UUID | None = None,
    ) -> ComplianceReport:
        """The compliance view of a period: filtered links, a page of them, and roll-ups.
        With ``after`` (the last link of the previous page), the page starts after that link
        in the view's order (a keyset page: no earlier rows are read again).
        With ``within``, only the links with an end among those members (a member's own part
        of the tree: the links below them, their own link upwards, and the links they held
        earlier in the period, marked ``ended``)."""
        period = parse_period(period_label, self.rule)
        if within is None and self.aggregates and await self.aggregates.covers(period):
            return await self.aggregates.report(
                period,
                today,
                unit_id=unit_id,
                tier=tier,
                upper_member_id=upper_member_id,
                status=status,
                limit=limit,
                offset=offset,
                after=after,
            )
        links, parents = await self.chosen_links(period, today, unit_id, within)
        city = Tally()
        by_tier: defaultdict[str, Tally] = defaultdict(Tally)
        by_unit: defaultdict[str, Tally] = defaultdict(Tally)
        for link in links:
            city.add(link.status)
            by_tier[link.upper_tier].add(link.status)
            for unit in lineage(str(link.lower_unit_id), parents):
                by_unit[unit].add(link.status)
        chosen = [
            c
            for c in links
            if (tier is None or c.upper_tier == tier)
            and (upper_member_id is None or c.upper_member_id == upper_member_id)
            and (status is None or c.status == status)
        ]
        return ComplianceReport(
            period=period.label,
            city=_tally(city),
            by_tier=[GroupTally(key=k, tally=_tally(v)) for k, v in sorted(by_tier.items())],
            by_unit=[GroupTally(key=k, tally=_tally(v)) for k, v in sorted(by_unit.items())],
            data=_after(chosen, links, after)[offset : offset + limit],
            count=len(chosen),
        )

    async def monthly(
        self,
        period_label: str,
        today: date,
        unit_id: UUID | None = None,
        within: set[UUID] | None = None,
    ) -> list[MonthCompliance]:
        """Compliance as it stood at the end of each month of the period so far: the share of
        the period's links that had already met the rule with the contacts dated until then
        (only the links ``report`` chooses with ``within``, when given)."""
        period = parse_period(period_label, self.rule)
        if within is None and self.aggregates and await self.aggregates.covers(period):
            return await self.aggregates.monthly(period, today, unit_id)
        links, _ = await self.chosen_links(period, today, unit_id, within)
        contacts = await self.contact_dates(period)
        months = []
        month_start = period.start
        while month_start <= min(period.end, today):
            following = date(
                month_start.year + month_start.month // 12, month_start.month % 12 + 1, 1
            )
            month_end = following - timedelta(days=1)
            tally = Tally()
            for link in links:
                dates = sorted(d for d in contacts.get(str(link.link_id), []) if d <= month_end)
                standing = self.rule.standing(period, link.assigned_on, link.unassigned_on, dates)
                tally.add(standing.status)
            months.append(MonthCompliance(month=month_start.strftime("%Y-%m"), tally=_tally(tally)))
            month_start = following
        return months

    async def exposure(self) -> Exposure:
        """Over-span upper members and unlinked members, now."""
        p = self.p
        policy_row: Any = await self.reader.fetchrow(
            f"SELECT leader, committee, representative FROM {p}r_policy WHERE id = 1"
        )
        targets = (
            dict(zip(("leader", "committee", "representative"), policy_row, strict=True))
            if policy_row
            else DEFAULT_SPANS
        )
        spans = await self.reader.fetch(
            f"SELECT m.member_id, m.tier, m.unit_id, count(*) FROM {p}r_links l "
            f"JOIN {p}r_members m ON m.member_id = l.upper_member_id "
            "WHERE l.unassigned_on IS NULL AND m.status = 'active' "
            "GROUP BY m.member_id, m.tier, m.unit_id ORDER BY m.member_id"
        )
        over = [
            OverSpanMember(member_id=r[0], tier=r[1], unit_id=r[2], span=r[3], target=targets[r[1]])
            for r in spans
            if r[1] in targets and r[3] > targets[r[1]]
        ]
        unlinked = await self.reader.fetch(
            f"SELECT member_id, tier, unit_id FROM {p}r_members m WHERE status = 'active' "
            "AND tier <> 'leader' AND NOT EXISTS (SELECT 1 FROM "
            f"{p}r_links l WHERE l.lower_member_id = m.member_id AND l.unassigned_on IS NULL) "
            "ORDER BY member_id"
        )
        return Exposure(
            over_span=over,
            unlinked=[UnlinkedMember(member_id=r[0], tier=r[1], unit_id=r[2]) for r in unlinked],
        )


def no_such_link() -> NotFoundError:
    """The refusal of an ``after`` that is not a link of the view."""
    return NotFoundError(
        "after",
        "not a link of this period's compliance view (with this unit)",
        code="link_not_found",
        location="query",
    )


def _after(
    chosen: list[LinkCompliance], links: list[LinkCompliance], after: UUID | None
) -> list[LinkCompliance]:
    """The chosen links after ``after`` (one of ``links``) in the view's order."""
    if after is None:
        return chosen
    found = next((link for link in links if link.link_id == after), None)
    if found is None:
        raise no_such_link()
    key = least_compliant_first(found)
    return [link for link in chosen if least_compliant_first(link) > key]
