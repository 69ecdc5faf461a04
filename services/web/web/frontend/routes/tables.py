"""The escalation queue and compliance tables, with filters and CSV/XLSX export."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.frontend.deps import ApiDep, StaffDep, federation_clock
from web.frontend.rendering import render
from web.frontend.routes.common import flatten_units, members_by_id

router = APIRouter(tags=["frontend"])
PAGE = 50


def _page(value: str | None) -> int:
    return max(0, int(value)) if value and value.isdigit() else 0


@router.get("/queue")
async def queue(
    request: Request,
    user: StaffDep,
    api: ApiDep,
    unit_id: str | None = None,
    level: str | None = None,
    department: str | None = None,
    page: str | None = None,
) -> Response:
    """Open suggestions, overdue first, filtered by the raiser's unit, level or department."""
    offset = _page(page) * PAGE
    found = await api.get(
        "reports",
        "/escalation-queue",
        unit_id=unit_id,
        level=level,
        department=department,
        limit=PAGE,
        offset=offset,
    )
    units = flatten_units(await api.get("roster", "/units"))
    people = await members_by_id(api, [q["holder_id"] for q in found["data"]])
    context = {
        "found": found,
        "units": units,
        "people": people,
        "departments": await api.get("feedback", "/departments"),
        "filters": {"unit_id": unit_id, "level": level, "department": department},
        "page": _page(page),
        "page_size": PAGE,
    }
    return render(request, "queue.html", context)


@router.get("/compliance")
async def compliance(
    request: Request,
    user: StaffDep,
    api: ApiDep,
    period: str | None = None,
    unit_id: str | None = None,
    tier: str | None = None,
    status: str | None = None,
    upper_member_id: str | None = None,
    page: str | None = None,
) -> Response:
    """Every link's standing in the period, filtered by unit, tier or status."""
    period = period or str(federation_clock(request).today().year)
    found = await api.get(
        "reports",
        "/compliance",
        period=period,
        unit_id=unit_id,
        tier=tier,
        status=status,
        upper_member_id=upper_member_id,
        limit=PAGE,
        offset=_page(page) * PAGE,
    )
    units = flatten_units(await api.get("roster", "/units"))
    ids = [link[k] for link in found["data"] for k in ("upper_member_id", "lower_member_id")]
    context = {
        "found": found,
        "units": units,
        "unit_names": {u["unit_id"]: u["name"] for u in units},
        "people": await members_by_id(api, ids),
        "filters": {
            "period": period,
            "unit_id": unit_id,
            "tier": tier,
            "status": status,
            "upper_member_id": upper_member_id,
        },
        "page": _page(page),
        "page_size": PAGE,
    }
    return render(request, "compliance.html", context)


@router.get("/export/{table}.{format}")
async def export(
    request: Request,
    table: Literal["compliance", "queue"],
    format: Literal["csv", "xlsx"],
    user: StaffDep,
    api: ApiDep,
    period: str | None = None,
    unit_id: str | None = None,
) -> Response:
    """The reports service's export, fetched with the user's token and handed on."""
    if table == "compliance":
        period = period or str(federation_clock(request).today().year)
        answer = await api.download(
            "reports", "/compliance/export", period=period, unit_id=unit_id, format=format
        )
    else:
        answer = await api.download("reports", "/escalation-queue/export", format=format)
    headers = {
        k: v
        for k, v in answer.headers.items()
        if k.lower() in ("content-type", "content-disposition")
    }
    return Response(answer.content, headers=headers)
