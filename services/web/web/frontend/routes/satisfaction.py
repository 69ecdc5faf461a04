"""Satisfaction (满意度) per unit and per department: how the raisers rated the answers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.frontend.deps import ApiDep, StaffDep, federation_clock
from web.frontend.rendering import render
from web.frontend.routes.common import unit_names

router = APIRouter(prefix="/satisfaction", tags=["frontend"])


@router.get("")
async def satisfaction(
    request: Request, user: StaffDep, api: ApiDep, period: str | None = None
) -> Response:
    """The period's ratings per enterprise union (or unit) and per federation department."""
    period = period or str(federation_clock(request).today().year)
    units = await api.get("reports", "/satisfaction", period=period, by="unit")
    departments = await api.get("reports", "/satisfaction", period=period, by="department")
    names = await unit_names(api)
    known = {d["code"]: d["name"] for d in await api.get("feedback", "/departments")}
    context = {
        "period": period,
        "units": units,
        "departments": departments,
        "names": {**names, **known},
    }
    return render(request, "satisfaction.html", context)
