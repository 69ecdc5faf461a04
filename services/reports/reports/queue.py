"""The suggestion-escalation queue, performance records and the city overview."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from escalation import DeadlinePolicy, load_recorded
from eventspine.errors import NotFoundError
from eventspine.projection import Tx
from reports.models import Overview, PerformanceRecord, QueueItem, QueuePage, SuggestionTally
from reports.rules import department_step, hours, most_urgent_first, overdue, urgency
from reports.satisfaction import RATINGS, SatisfactionViews, rate
from reports.views import ComplianceView, lineage, parse_period

OPEN = ("held", "acknowledged", "assigned")


class SuggestionViews:
    """Questions over ``r_suggestions`` and ``r_feedback_acts`` (with the compliance rows)."""

    def __init__(
        self, reader: Tx, deadlines: DeadlinePolicy, compliance: ComplianceView, prefix: str = ""
    ) -> None:
        self.reader = reader
        self.deadlines = deadlines
        self.compliance = compliance
        self.p = prefix

    async def queue(
        self,
        now: datetime,
        *,
        unit_id: UUID | None = None,
        level: int | None = None,
        department: str | None = None,
        within: set[UUID] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> QueuePage:
        """Open suggestions, the most urgent first: overdue, then soonest deadline, then oldest.
        With ``unit_id``, those whose subject (the member raised for, or else the raiser) is in
        that unit or its sub-units; with ``within``, only those held by or raised by (or for)
        one of those members."""
        p = self.p
        rows = await self.reader.fetch(
            f"SELECT s.suggestion_id, s.category, s.status, s.holder_id, s.holder_tier, s.level, "
            f"s.escalations, s.department, m.unit_id, s.raised_at, s.arrived_at, "
            "coalesce(s.on_behalf_of, s.raised_by), s.raised_by, r.unit_id, c.deadline, "
            "d.due_by, d.overdue "
            f"FROM {p}r_suggestions s LEFT JOIN {p}r_members m "
            "ON m.member_id = coalesce(s.on_behalf_of, s.raised_by) "
            f"LEFT JOIN {p}r_members r ON r.member_id = s.raised_by "
            f"LEFT JOIN {p}r_suggestion_clocks c ON c.suggestion_id = s.suggestion_id "
            f"LEFT JOIN {p}r_department_steps d ON d.suggestion_id = s.suggestion_id "
            "WHERE s.status IN ('held', 'acknowledged', 'assigned')"
        )
        units: set[str] | None = None
        if unit_id is not None:
            parents = await self.compliance.unit_tree()
            if str(unit_id) not in parents:
                raise NotFoundError("unit_id", "no such union organisation", code="unit_not_found")
            units = {u for u in parents if str(unit_id) in lineage(u, parents)}
        seen = {str(m) for m in within or ()}
        items = []
        for r in rows:
            if units is not None and str(r[8]) not in units:
                continue
            if within is not None and not {str(r[3]), str(r[11]), str(r[12])} & seen:
                continue
            if (level is not None and r[5] != level) or (
                department is not None and r[7] != department
            ):
                continue
            standing = urgency(
                self.deadlines,
                r[2],
                r[4],
                datetime.fromisoformat(str(r[9])),
                datetime.fromisoformat(str(r[10])),
                now,
                load_recorded(r[14]),
            )
            if r[15] is not None:
                standing = department_step(standing, r[2], datetime.fromisoformat(str(r[15])), now)
            items.append(
                QueueItem(
                    suggestion_id=r[0],
                    category=r[1],
                    status=r[2],
                    holder_id=r[3],
                    holder_tier=r[4],
                    level=r[5],
                    escalations=r[6],
                    department=r[7],
                    raiser_unit_id=r[8],
                    subject_unit_id=r[8],
                    raised_by_unit_id=r[13],
                    age_hours=standing.age_hours,
                    deadline=standing.deadline,
                    hours_to_deadline=standing.hours_to_deadline,
                )
            )
        items.sort(key=most_urgent_first)
        return QueuePage(
            data=items[offset : offset + limit], count=len(items), overdue=overdue(items)
        )

    async def performance(
        self, period_label: str, tier: str | None, within: set[UUID] | None = None
    ) -> list[PerformanceRecord]:
        """Duties performed in a period by each representative and committee member (only
        those in ``within`` when given)."""
        period = parse_period(period_label, self.compliance.rule)
        start, end = period.start.isoformat(), period.end.isoformat()
        p = self.p
        tiers = [tier] if tier else ["representative", "committee"]
        members = [
            r
            for r in await self.reader.fetch(
                f"SELECT member_id, tier FROM {p}r_members ORDER BY tier, member_id"
            )
            if r[1] in tiers and (within is None or UUID(str(r[0])) in within)
        ]
        contacts: dict[str, Counter[str]] = {}
        for r in await self.reader.fetch(
            f"SELECT upper_member_id, method FROM {p}r_contacts WHERE retracted = 0 "
            "AND contacted_on >= $1 AND contacted_on <= $2",
            start,
            end,
        ):
            contacts.setdefault(str(r[0]), Counter())[str(r[1])] += 1
        acts: dict[str, dict[str, list[float | None]]] = {}
        for r in await self.reader.fetch(
            f"SELECT member_id, act, waited_seconds FROM {p}r_feedback_acts "
            "WHERE at >= $1 AND at < $2",
            start,
            (period.end + timedelta(days=1)).isoformat(),
        ):
            acts.setdefault(str(r[0]), {}).setdefault(str(r[1]), []).append(r[2])
        rated = await SatisfactionViews(self.reader, p).by_member(period.start, period.end)
        records = []
        for member_id, member_tier in members:
            done = acts.get(str(member_id), {})
            ratings = rated.get(str(member_id), Counter())
            waits = [w for w in done.get("answered", []) if w is not None]
            methods = contacts.get(str(member_id), Counter())
            records.append(
                PerformanceRecord(
                    member_id=member_id,
                    tier=member_tier,
                    contacts_made=sum(methods.values()),
                    methods=dict(sorted(methods.items())),
                    suggestions_raised=len(done.get("raised", [])),
                    suggestions_relayed=len(done.get("relayed", [])),
                    suggestions_answered=len(done.get("answered", [])),
                    median_hours_to_answer=hours(statistics.median(waits)) if waits else None,
                    ratings={r: ratings[r] for r in RATINGS} if ratings else {},
                    satisfied_pct=rate(ratings),
                )
            )
        return records

    async def linked_members(self) -> dict[str, int]:
        """Active members with an open link above them, per tier, counted from the links."""
        p = self.p
        rows = await self.reader.fetch(
            f"SELECT m.tier, count(DISTINCT m.member_id) FROM {p}r_links l "
            f"JOIN {p}r_members m ON m.member_id = l.lower_member_id "
            "WHERE l.unassigned_on IS NULL AND m.status = 'active' GROUP BY m.tier"
        )
        return {str(r[0]): int(r[1]) for r in rows}

    async def overview(self, period_label: str, today: date) -> Overview:
        """Linked members per tier (now), compliance in the period, and what became of the
        suggestions raised in the period (answered or resolved at any time since)."""
        report = await self.compliance.report(period_label, today, limit=1)
        period = parse_period(period_label, self.compliance.rule)
        p = self.p
        aggregates = self.compliance.aggregates
        counted = await aggregates.linked_members() if aggregates else None
        linked = await self.linked_members() if counted is None else counted
        rows: list[Any] = await self.reader.fetch(
            f"SELECT raised_at, first_answer_at, resolved_at, level, department "
            f"FROM {p}r_suggestions "
            "WHERE raised_at >= $1 AND raised_at < $2",
            period.start.isoformat(),
            (period.end + timedelta(days=1)).isoformat(),
        )
        waits = [
            (datetime.fromisoformat(str(r[1])) - datetime.fromisoformat(str(r[0]))).total_seconds()
            for r in rows
            if r[1]
        ]
        return Overview(
            period=report.period,
            linked_members=linked,
            compliance_pct=report.city.compliance_pct,
            suggestions_raised=len(rows),
            suggestions_answered=len(waits),
            suggestions_resolved=sum(1 for r in rows if r[2]),
            median_hours_to_first_answer=hours(statistics.median(waits)) if waits else None,
            by_level=_tallies(rows, 3),
            by_department=_tallies(rows, 4),
        )


def _tallies(rows: list[Any], column: int) -> list[SuggestionTally]:
    """Suggestions raised, answered and resolved, grouped by one column of the rows."""
    groups: dict[str | None, list[int]] = {}
    for row in rows:
        key = None if row[column] is None else str(row[column])
        counts = groups.setdefault(key, [0, 0, 0])
        counts[0] += 1
        counts[1] += row[1] is not None
        counts[2] += row[2] is not None
    # Levels are numbers written as text: the shorter first sorts 2 before 10.
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] is None, len(kv[0] or ""), kv[0] or ""))
    return [SuggestionTally(key=k, raised=c[0], answered=c[1], resolved=c[2]) for k, c in ordered]
