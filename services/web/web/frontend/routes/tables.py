"""The escalation queue and compliance tables, with filters (their exports are
:mod:`web.frontend.routes.table_exports`)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.frontend.deps import Api, ApiDep, StaffDep, federation_clock
from web.frontend.rendering import render
from web.frontend.routes.common import flatten_units, members_by_id
from web.frontend.services import ServiceError

router = APIRouter(tags=["frontend"])
PAGE = 50
FIRST_LINE = 80
"""Characters of a suggestion's first line the queue shows."""


def _page(value: str | None) -> int:
    return max(0, int(value)) if value and value.isdigit() else 0


async def first_lines(api: Api, ids: list[str]) -> dict[str, str]:
    """The first line of each suggestion's text, for those the user may read (the feedback
    service decides; a suggestion it withholds, or whose text was forgotten, has none)."""

    async def one(suggestion_id: str) -> str | None:
        try:
            found = await api.get("feedback", f"/suggestions/{suggestion_id}")
        except ServiceError as error:
            if error.status in (403, 404):
                return None
            raise
        text = (found.get("text") or "").strip()
        return text.splitlines()[0][:FIRST_LINE] if text else None

    lines = await asyncio.gather(*(one(str(i)) for i in ids))
    return {str(i): line for i, line in zip(ids, lines, strict=True) if line}


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
        "first_lines": await first_lines(api, [q["suggestion_id"] for q in found["data"]]),
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
