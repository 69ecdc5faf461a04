"""Themes (what workers raise): per category and tag, for the city and per unit, against the
period before, with a few suggestions of each theme to read; CSV and XLSX with Chinese
headers."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.frontend.deps import Api, ApiDep, StaffDep, federation_clock
from web.frontend.exports import Column, Table
from web.frontend.i18n import N_, Language
from web.frontend.labels import CATEGORY_LABELS
from web.frontend.rendering import language_of, render
from web.frontend.routes.common import unit_names
from web.frontend.routes.table_exports import _send
from web.frontend.tags import tag_options

router = APIRouter(prefix="/themes", tags=["frontend"])
KINDS = {"category": N_("Category"), "tag": N_("Tag")}
CITY = N_("The whole city")


def change(count: int, previous: int) -> str:
    """The trend in a word: ``+3``, ``-1`` or ``0`` (against the period before)."""
    diff = count - previous
    return f"+{diff}" if diff > 0 else str(diff)


async def _themes(api: Api, request: Request, period: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get("reports", "/themes", period=period)
    return {
        "found": found,
        "tag_words": dict(await tag_options(api, request)),
        "units": await unit_names(api),
    }


def rows(
    lang: Language, found: dict[str, Any], words: dict[str, str], units: dict[str, str]
) -> list[dict[str, Any]]:
    """Every count as one row: the city's first, then each unit's; categories, then tags."""
    city = lang.gettext(CITY)

    def category(code: str) -> str:
        return lang.gettext(CATEGORY_LABELS[code]) if code in CATEGORY_LABELS else code

    out: list[dict[str, Any]] = []
    for r in found["top"]:
        out.append({"unit": city, "kind": "category", "theme": category(r["category"]), **r})
    for r in found["top_tags"]:
        out.append({"unit": city, "kind": "tag", "theme": words.get(r["tag"], r["tag"]), **r})
    for r in found["by_unit"]:
        name = units.get(r["key"], r["key"])
        out.append({"unit": name, "kind": "category", "theme": category(r["category"]), **r})
    for r in found["by_unit_tags"]:
        name = units.get(r["key"], r["key"])
        out.append({"unit": name, "kind": "tag", "theme": words.get(r["tag"], r["tag"]), **r})
    return out


@router.get("")
async def themes(
    request: Request, user: StaffDep, api: ApiDep, period: str | None = None
) -> Response:
    """What workers raised in the period: the city's categories and tags with the trend, per
    unit, and the latest suggestions of each theme."""
    period = period or str(federation_clock(request).today().year)
    data = await _themes(api, request, period)
    found, words = data["found"], data["tag_words"]
    examples: dict[str, list[dict[str, Any]]] = {}
    for e in found["examples"]:
        examples.setdefault(e["theme"], []).append(e)
    context = {
        "period": period,
        "found": found,
        "tag_words": words,
        "units": data["units"],
        "examples": examples,
        "change": change,
    }
    return render(request, "themes.html", context)


@router.get("/export.{format}")
async def export_themes(
    request: Request,
    user: StaffDep,
    api: ApiDep,
    format: Literal["csv", "xlsx"],
    period: str | None = None,
) -> Response:
    """The themes page's counts as CSV or XLSX: unit, kind, theme, this period, the period
    before, the change."""
    period = period or str(federation_clock(request).today().year)
    data = await _themes(api, request, period)
    lang = language_of(request)
    found = data["found"]
    columns = [
        Column(N_("Unit"), lambda r: r["unit"], 24),
        Column(N_("Kind"), lambda r: lang.gettext(KINDS[r["kind"]]), 8),
        Column(N_("Theme"), lambda r: r["theme"], 18),
        Column(N_("This period"), lambda r: r["count"], 10),
        Column(N_("The period before"), lambda r: r["previous"], 10),
        Column(N_("Increase or decrease"), lambda r: r["count"] - r["previous"], 8),
    ]
    table = Table(
        N_("Themes"),
        columns,
        rows(lang, found, data["tag_words"], data["units"]),
        parts=(found["period"],),
    )
    return _send(request, table, format, "themes")
