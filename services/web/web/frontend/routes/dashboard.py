"""The dashboard: city compliance, by tier and by unit, over the months; overdue suggestions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.frontend.deps import ApiDep, StaffDep, federation_clock
from web.frontend.owing import contact_rule
from web.frontend.rendering import render
from web.frontend.routes.common import flatten_units, members_by_id
from web.frontend.tags import tag_options

router = APIRouter(prefix="/dashboard", tags=["frontend"])
CHART = {"width": 640, "height": 220, "left": 40, "right": 10, "top": 10, "bottom": 30}


def chart(months: list[dict[str, Any]]) -> dict[str, Any]:
    """Points of the compliance-over-months chart (server-rendered SVG), 0-100 % high."""
    c = CHART
    inner_w = c["width"] - c["left"] - c["right"]
    inner_h = c["height"] - c["top"] - c["bottom"]
    step = inner_w / max(1, len(months) - 1) if len(months) > 1 else 0
    points = []
    for index, month in enumerate(months):
        pct = float(month["tally"]["compliance_pct"])
        x = c["left"] + (index * step if len(months) > 1 else inner_w / 2)
        y = c["top"] + inner_h * (1 - pct / 100)
        points.append({"x": round(x, 1), "y": round(y, 1), "pct": pct, "month": month["month"]})
    grid = [
        {"y": round(c["top"] + inner_h * (1 - v / 100), 1), "label": f"{v}%"}
        for v in (0, 25, 50, 75, 100)
    ]
    return {**c, "points": points, "grid": grid, "bottom_y": c["top"] + inner_h}


def unit_rows(
    groups: list[dict[str, Any]], parent: dict[str, str | None], unit_id: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The unit table's rows, the least compliant first, and its total row.

    Below the chosen unit, its direct sub-units with the unit as the total. With none chosen
    the table starts below the city federation (the counties and the unions directly under
    it), the city being the total: the city alone is no table to find the worst county in."""
    tops = [g["key"] for g in groups if parent.get(g["key"], "") is None]
    above = unit_id or (tops[0] if len(tops) == 1 else None)
    rows = [g for g in groups if g["key"] != above and parent.get(g["key"]) == above]
    rows.sort(key=lambda g: (g["tally"]["compliance_pct"], -g["tally"]["links"]))
    total = next((g for g in groups if g["key"] == above), None) if above else None
    return rows, total


@router.get("")
async def dashboard(
    request: Request,
    user: StaffDep,
    api: ApiDep,
    period: str | None = None,
    unit_id: str | None = None,
) -> Response:
    """City (or one unit's) compliance, its history over the months, and the queue's state."""
    year = federation_clock(request).today().year
    period = period or str(year)
    report = await api.get("reports", "/compliance", period=period, unit_id=unit_id, limit=20)
    months = await api.get("reports", "/compliance/monthly", period=period, unit_id=unit_id)
    overview = await api.get("reports", "/overview", period=period)
    themes = await api.get("reports", "/themes", period=period)
    queue = await api.get("reports", "/escalation-queue", unit_id=unit_id, limit=1)
    units = flatten_units(await api.get("roster", "/units"))
    names = {u["unit_id"]: u["name"] for u in units}
    parent = {u["unit_id"]: u["parent_unit_id"] for u in units}
    by_unit, total = unit_rows(report["by_unit"], parent, unit_id)
    trail: list[dict[str, str]] = []
    cursor = unit_id
    while cursor:
        trail.insert(0, {"unit_id": cursor, "name": names.get(cursor, "—")})
        cursor = parent.get(cursor)
    ids = [link[k] for link in report["data"] for k in ("upper_member_id", "lower_member_id")]
    context = {
        "people": await members_by_id(api, ids),
        "period": period,
        "unit_id": unit_id,
        "report": report,
        "by_unit": by_unit,
        "unit_total": total,
        "names": names,
        "trail": trail,
        "chart": chart(months),
        "months": months,
        "overview": overview,
        "themes": themes["top"][:5],
        "theme_tags": themes.get("top_tags", [])[:5],
        "tag_words": dict(await tag_options(api, request)),
        "queue": queue,
        "rule": contact_rule(),
        "years": [str(y) for y in range(year, year - 4, -1)],
    }
    return render(request, "dashboard.html", context)
