"""HTTP routes of the reports service: the compliance view, its exports, rebuilds.

Readiness, lag and metrics are the platform's (:mod:`servicekit.operability`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel

from access.guard import OVERSIGHT, Caller, reach_of
from compliance.rule import Status
from eventspine.errors import NotFoundError
from reports.bootstrap import Reports
from reports.exports import to_csv, to_xlsx
from reports.models import (
    ComplianceReport,
    Exposure,
    MonthCompliance,
    Overview,
    PerformanceRecord,
    QueuePage,
)
from reports.rebuild import RebuildStatus
from reports.satisfaction import By, Satisfaction, SatisfactionViews
from reports.themes import Themes, ThemeViews
from reports.views import parse_period


async def get_reports(request: Request) -> Reports:
    """The reports service wired by the app's lifespan."""
    reports: Reports = request.app.state.reports
    return reports


ReportsDep = Annotated[Reports, Depends(get_reports)]
Period = Annotated[
    str,
    Query(
        description="2026 (the contact rule's year), or 2026-H1 / 2026-Q3 for shorter rule periods",
        examples=["2026"],
    ),
]
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORTED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the rows as CSV (UTF-8) or as an XLSX workbook (`format`)",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
Offset = Annotated[int, Query(ge=0, le=1_000_000)]

compliance = APIRouter(prefix="/compliance", tags=["compliance"])
queue = APIRouter(prefix="/escalation-queue", tags=["suggestions"])
performance = APIRouter(prefix="/performance", tags=["performance"])
overview = APIRouter(prefix="/overview", tags=["overview"])
admin = APIRouter(prefix="/admin", tags=["operations"])
satisfaction = APIRouter(prefix="/satisfaction", tags=["performance"])
themes = APIRouter(prefix="/themes", tags=["overview"])


@compliance.get(
    "",
    responses={
        404: {"description": "unknown unit, or an ``after`` that is not a link of the view"},
        422: {"description": "malformed period or filter"},
    },
)
async def compliance_view(
    reports: ReportsDep,
    principal: Caller,
    period: Period,
    unit_id: UUID | None = None,
    tier: Annotated[
        Literal["leader", "committee", "representative"] | None,
        Query(description="tier of the upper member"),
    ] = None,
    upper_member_id: UUID | None = None,
    status: Status | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    after: Annotated[
        UUID | None,
        Query(
            description="the last link of the previous page: this page starts after it in the "
            "view's order (a keyset page, for walking the whole table)"
        ),
    ] = None,
) -> ComplianceReport:
    """Per link: contacts counted, required, last contact, status; rolled up for the city,
    per tier and per unit (each unit including its sub-units). The least compliant first.

    What a link owes (``required``): the rule's minimum (``SANLIAN_CONTACT_MINIMUM``, 2 a year)
    when it was active the whole period; when it started or ended inside the period, its share
    of the minimum by its active days (``active_from`` to ``active_until``), rounded to the
    nearest whole contact (halves up) and at least 1: a link started on 1 July owes 1 in its
    year. ``met`` means counted >= required.

    A member sees their own part of the tree: the links below them, their own link upwards,
    and the links they held earlier in the period (``ended``, with ``unassigned_on``)."""
    return await reports.views.report(
        period,
        reports.clock.today(),
        unit_id=unit_id,
        tier=tier,
        upper_member_id=upper_member_id,
        status=status,
        within=await reach_of(principal, reports.tree),
        limit=limit,
        offset=offset,
        after=after,
    )


@compliance.get("/export", responses=EXPORTED)
async def compliance_export(
    reports: ReportsDep,
    principal: Caller,
    period: Period,
    format: Literal["csv", "xlsx"] = "csv",
    unit_id: UUID | None = None,
    tier: Annotated[
        Literal["leader", "committee", "representative"] | None,
        Query(description="tier of the upper member"),
    ] = None,
    upper_member_id: UUID | None = None,
    status: Status | None = None,
) -> Response:
    """Every link of the period's compliance view that ``GET /compliance`` chooses with the
    same filters, as CSV or XLSX (the columns of its links, ``required`` prorated as
    described there)."""
    within = await reach_of(principal, reports.tree)
    report = await reports.views.report(
        period,
        reports.clock.today(),
        unit_id=unit_id,
        tier=tier,
        upper_member_id=upper_member_id,
        status=status,
        within=within,
        limit=1_000_000,
    )
    return _export(report.data, f"compliance-{report.period}", format)


@compliance.get(
    "/monthly",
    responses={
        404: {"description": "unknown unit"},
        422: {"description": "malformed period"},
    },
)
async def compliance_by_month(
    reports: ReportsDep, principal: Caller, period: Period, unit_id: UUID | None = None
) -> list[MonthCompliance]:
    """Compliance at the end of each month of the period so far (for a chart over the months):
    the share of the period's links that had already met the rule by then, each against what
    it owes in the whole period (prorated for a link active part of it, at least 1; see
    ``GET /compliance``). A member's: the links ``GET /compliance`` shows them."""
    within = await reach_of(principal, reports.tree)
    return await reports.views.monthly(period, reports.clock.today(), unit_id, within)


@compliance.get("/exposure", dependencies=[OVERSIGHT])
async def exposure(reports: ReportsDep) -> Exposure:
    """Upper members over their target span, and members nobody keeps in contact with."""
    return await reports.views.exposure()


@queue.get("", responses={404: {"description": "unknown unit"}})
async def escalation_queue(
    reports: ReportsDep,
    principal: Caller,
    unit_id: Annotated[
        UUID | None,
        Query(
            description="the unit (with its sub-units) of the member the suggestion speaks for: "
            "the worker it was raised on behalf of, or else the raiser (subject_unit_id)"
        ),
    ] = None,
    level: Annotated[int | None, Query(ge=0, le=10, description="escalations so far")] = None,
    department: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{1,39}$")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> QueuePage:
    """Open suggestions with holder, level, age and time to the next deadline; overdue first.
    Each names the unit of the member it speaks for (``subject_unit_id``: the worker, when a
    representative raised it for a worker) and the raiser's own unit (``raised_by_unit_id``);
    ``raiser_unit_id`` is kept, with the subject's unit in it. A member sees those held or
    raised in their own part of the tree."""
    return await reports.suggestions.queue(
        reports.clock.now(),
        unit_id=unit_id,
        level=level,
        department=department,
        within=await reach_of(principal, reports.tree),
        limit=limit,
        offset=offset,
    )


@queue.get("/export", responses=EXPORTED)
async def escalation_queue_export(
    reports: ReportsDep,
    principal: Caller,
    format: Literal["csv", "xlsx"] = "csv",
    unit_id: UUID | None = None,
    level: Annotated[int | None, Query(ge=0, le=10, description="escalations so far")] = None,
    department: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{1,39}$")] = None,
) -> Response:
    """The escalation queue as ``GET /escalation-queue`` filters it (a member's: their part
    of it), every row, as CSV or XLSX."""
    within = await reach_of(principal, reports.tree)
    page = await reports.suggestions.queue(
        reports.clock.now(),
        unit_id=unit_id,
        level=level,
        department=department,
        within=within,
        limit=1_000_000,
    )
    return _export(page.data, "escalation-queue", format)


@performance.get("", responses={422: {"description": "malformed period"}})
async def performance_records(
    reports: ReportsDep,
    principal: Caller,
    period: Period,
    tier: Literal["representative", "committee"] | None = None,
) -> list[PerformanceRecord]:
    """Duties performed (履职) per representative and committee member in the period (a
    member's own and their part of the tree's)."""
    within = await reach_of(principal, reports.tree)
    return await reports.suggestions.performance(period, tier, within)


@overview.get("", responses={422: {"description": "malformed period"}})
async def city_overview(reports: ReportsDep, period: Period) -> Overview:
    """The figures the federation reports: linked members, compliance, suggestions."""
    return await reports.suggestions.overview(period, reports.clock.today())


def _export(items: Sequence[BaseModel], name: str, format: str) -> Response:
    if format == "csv":
        return Response(
            to_csv(items),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(
        to_xlsx(items, name),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


@admin.post(
    "/rebuild",
    status_code=status.HTTP_202_ACCEPTED,
    responses={409: {"description": "a rebuild is already running"}},
)
async def start_rebuild(reports: ReportsDep) -> RebuildStatus:
    """Rebuild both projections from the first event into a fresh schema (PostgreSQL) or
    file (SQLite) while the live ones keep answering; swap them in once caught up.

    Answers at once; ``GET /admin/rebuild`` follows it. The previous schema or file is kept
    (``previous``) for an operator to compare and drop."""
    return await reports.rebuilds.start()


@admin.get(
    "/rebuild",
    dependencies=[OVERSIGHT],
    responses={404: {"description": "no rebuild recorded (embedded: since the service started)"}},
)
async def rebuild_status(reports: ReportsDep) -> RebuildStatus:
    """The running rebuild with its progress, or the last one and how it ended: on PostgreSQL
    as recorded there, the same on every instance (the progress only on the instance running
    it)."""
    found = await reports.rebuilds.status()
    if found is None:
        raise NotFoundError(
            "rebuild", "no rebuild since the service started", code="rebuild_not_found"
        )
    return found


@satisfaction.get(
    "", dependencies=[OVERSIGHT], responses={422: {"description": "malformed period"}}
)
async def satisfaction_report(
    reports: ReportsDep, period: Period, by: By = "unit"
) -> list[Satisfaction]:
    """How the raisers rated the answers (满意度) in the period, per unit or department."""
    span = parse_period(period, reports.suggestions.compliance.rule)
    views = SatisfactionViews(reports.suggestions.reader, reports.suggestions.p)
    return await views.grouped(by, span.start, span.end)


@themes.get("", dependencies=[OVERSIGHT], responses={422: {"description": "malformed period"}})
async def themes_report(reports: ReportsDep, period: Period) -> Themes:
    """What was raised in the period by category and by tag, against the period before: the
    city's top themes, per unit, per month, and the latest few suggestions of each theme (ids:
    staff read them in the feedback service)."""
    rule = reports.suggestions.compliance.rule
    span = parse_period(period, rule)
    before = rule.period_of(span.start - timedelta(days=1))
    views = ThemeViews(reports.suggestions.reader, reports.suggestions.p)
    return await views.themes(
        span.label, span.start, span.end, (before.label, before.start, before.end)
    )


ROUTERS = (compliance, queue, performance, overview, admin, satisfaction, themes)
