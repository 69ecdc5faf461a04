"""The monthly 通报 to leadership, as PDF and as XLSX: city and county compliance at the
month's end, the counties and enterprise unions ranked, the months' chart, suggestions by
level and department, and the members most behind."""

from __future__ import annotations

import asyncio
import io
import re
from collections import defaultdict
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from web.frontend.deps import Api, ApiDep, StaffDep, federation_clock
from web.frontend.exports import XLSX, disposition
from web.frontend.i18n import N_, Language
from web.frontend.labels import TIER_LABELS
from web.frontend.owing import contact_rule
from web.frontend.papers import html_to_pdf, pdf_response
from web.frontend.rendering import language_of, render_text
from web.frontend.routes.common import flatten_units, members_by_id
from web.frontend.routes.dashboard import chart
from web.frontend.routes.table_exports import all_pages

router = APIRouter(prefix="/papers/bulletin", tags=["frontend"])
MONTH = re.compile(r"^(?P<year>20\d\d)-(?P<month>0[1-9]|1[0-2])$")
MOST_BEHIND = 10
"""Members listed as most behind."""


def period_of(year: int, month: int) -> str:
    """The contact rule's period holding the month (a year, a half or a quarter)."""
    months = contact_rule()["months"]
    if months == 12:
        return str(year)
    if months == 6:
        return f"{year}-H{1 if month <= 6 else 2}"
    return f"{year}-Q{(month - 1) // 3 + 1}"


def _at(months: list[dict[str, Any]], label: str) -> dict[str, Any] | None:
    return next((m["tally"] for m in months if m["month"] == label), None)


def ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Units by compliance, the best first, each with its rank (ties share one)."""
    ordered = sorted(rows, key=lambda r: (-r["tally"]["compliance_pct"], -r["tally"]["links"]))
    rank, last = 0, None
    for index, row in enumerate(ordered, start=1):
        if row["tally"]["compliance_pct"] != last:
            rank, last = index, row["tally"]["compliance_pct"]
        row["rank"] = rank
    return ordered


def most_behind(links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Upper members by the contacts their links still owe, the most first."""
    owed: dict[str, dict[str, Any]] = defaultdict(lambda: {"links": 0, "owed": 0, "none": 0})
    for link in links:
        if link["status"] == "met" or link.get("ended"):
            continue
        row = owed[str(link["upper_member_id"])]
        row["links"] += 1
        row["owed"] += max(0, link["required"] - link["counted"])
        row["none"] += link["status"] == "none"
        row["tier"] = link["upper_tier"]
    rows = [{"member_id": k, **v} for k, v in owed.items()]
    rows.sort(key=lambda r: (-r["owed"], -r["none"], r["member_id"]))
    return rows[:MOST_BEHIND]


def by_key(
    raised: list[dict[str, Any]], items: list[dict[str, Any]], key: str
) -> list[dict[str, Any]]:
    """Suggestions by ``key`` (level, department): those raised in the period with how many
    were answered and resolved (the reports' overview), and those open now with how many are
    overdue (the queue)."""
    rows: dict[str | None, dict[str, Any]] = {}

    def row(name: Any) -> dict[str, Any]:
        k = None if name is None else str(name)
        empty = {"key": k, "raised": 0, "answered": 0, "resolved": 0, "open": 0, "overdue": 0}
        return rows.setdefault(k, empty)

    for tally in raised:
        found = row(tally["key"])
        for field in ("raised", "answered", "resolved"):
            found[field] = tally[field]
    for item in items:
        found = row(item.get(key))
        found["open"] += 1
        hours = item.get("hours_to_deadline")
        found["overdue"] += hours is not None and hours < 0
    order = sorted(
        rows.values(), key=lambda r: (r["key"] is None, len(r["key"] or ""), r["key"] or "")
    )
    return order


async def bulletin(api: Api, year: int, month: int, today: date) -> dict[str, Any]:
    """Everything the 通报 of one month holds."""
    label = f"{year:04d}-{month:02d}"
    period = period_of(year, month)
    units = flatten_units(await api.get("roster", "/units"))
    names = {u["unit_id"]: u["name"] for u in units}
    city_months = await api.get("reports", "/compliance/monthly", period=period)
    city = _at(city_months, label)
    if city is None:
        raise HTTPException(404, "no figures for this month yet")
    report = await all_pages(api, "/compliance", period=period)
    with_links = {g["key"] for g in report["by_unit"]}
    chosen = [
        u
        for u in units
        if u["kind"] in ("county_union", "enterprise_union") and u["unit_id"] in with_links
    ]
    monthly = await asyncio.gather(
        *(
            api.get("reports", "/compliance/monthly", period=period, unit_id=u["unit_id"])
            for u in chosen
        )
    )
    rows = {"county_union": [], "enterprise_union": []}  # type: dict[str, list[dict[str, Any]]]
    for unit, months in zip(chosen, monthly, strict=True):
        tally = _at(months, label)
        if tally is not None:
            rows[unit["kind"]].append(
                {"unit_id": unit["unit_id"], "name": unit["name"], "tally": tally}
            )
    behind = most_behind(report["data"])
    people = await members_by_id(api, [r["member_id"] for r in behind])
    queue = await all_pages(api, "/escalation-queue")
    departments = {d["code"]: d["name"] for d in await api.get("feedback", "/departments")}
    overview = await api.get("reports", "/overview", period=period)
    shown_months = [m for m in city_months if m["month"] <= label]
    return {
        "month": label,
        "period": period,
        "today": today,
        "city": city,
        "city_name": next((u["name"] for u in units if u["parent_unit_id"] is None), ""),
        "counties": ranked(rows["county_union"]),
        "enterprises": ranked(rows["enterprise_union"]),
        "months": shown_months,
        "chart": chart(shown_months),
        "overview": overview,
        "queue_count": queue["count"],
        "queue_overdue": queue["overdue"],
        "by_level": by_key(overview.get("by_level", []), queue["data"], "level"),
        "by_department": by_key(overview.get("by_department", []), queue["data"], "department"),
        "departments": departments,
        "behind": behind,
        "people": people,
        "names": names,
    }


def _month(value: str, today: date) -> tuple[int, int]:
    found = MONTH.match(value)
    if found is None:
        raise HTTPException(422, "a month is written YYYY-MM")
    year, month = int(found["year"]), int(found["month"])
    if (year, month) > (today.year, today.month):
        raise HTTPException(404, "this month has not begun")
    return year, month


@router.get("/{month}.{format}")
async def bulletin_paper(
    request: Request, month: str, format: Literal["pdf", "xlsx"], user: StaffDep, api: ApiDep
) -> Response:
    """The month's 通报 (staff), as an A4 PDF or an XLSX workbook."""
    today = federation_clock(request).today()
    year, number = _month(month, today)
    data = await bulletin(api, year, number, today)
    lang = language_of(request)
    name = f"{lang.gettext(N_('Monthly bulletin'))}-{data['month']}.{format}"
    fallback = f"bulletin-{data['month']}.{format}"
    if format == "pdf":
        pdf = await html_to_pdf(render_text(request, "papers/bulletin.html", data))
        return pdf_response(pdf, name, fallback)
    body = workbook(lang, data)
    return Response(
        body, media_type=XLSX, headers={"Content-Disposition": disposition(name, fallback)}
    )


def workbook(lang: Language, data: dict[str, Any]) -> bytes:
    """The 通报 as a workbook: one sheet per table of the paper."""
    _ = lang.gettext
    book = Workbook()
    first = book.active
    if first is not None:
        book.remove(first)

    def sheet(title: str, header: list[str], rows: list[list[Any]]) -> None:
        page = book.create_sheet(_(title)[:31])
        page.append([_(h) for h in header])
        for cell in page[1]:
            cell.font = Font(bold=True)
        for row in rows:
            page.append(row)
        for column in page.columns:
            page.column_dimensions[column[0].column_letter].width = 18

    city = data["city"]
    sheet(
        N_("Summary"),
        [
            N_("Month"),
            N_("Links"),
            N_("Met"),
            N_("Behind"),
            N_("Not contacted"),
            N_("Compliance (%)"),
            N_("Suggestions raised"),
            N_("Answered"),
            N_("Resolved"),
            N_("Open suggestions"),
            N_("Overdue"),
        ],
        [
            [
                data["month"],
                city["links"],
                city["met"],
                city["behind"],
                city["none"],
                city["compliance_pct"],
                data["overview"]["suggestions_raised"],
                data["overview"]["suggestions_answered"],
                data["overview"]["suggestions_resolved"],
                data["queue_count"],
                data["queue_overdue"],
            ]
        ],
    )
    ranking = [
        N_("Rank"),
        N_("Unit"),
        N_("Links"),
        N_("Met"),
        N_("Not contacted"),
        N_("Compliance (%)"),
    ]
    for title, rows in (
        (N_("Counties ranked"), data["counties"]),
        (N_("Enterprise unions ranked"), data["enterprises"]),
    ):
        sheet(
            title,
            ranking,
            [
                [
                    r["rank"],
                    r["name"],
                    r["tally"]["links"],
                    r["tally"]["met"],
                    r["tally"]["none"],
                    r["tally"]["compliance_pct"],
                ]
                for r in rows
            ],
        )
    sheet(
        N_("By month"),
        [N_("Month"), N_("Links"), N_("Met"), N_("Compliance (%)")],
        [
            [m["month"], m["tally"]["links"], m["tally"]["met"], m["tally"]["compliance_pct"]]
            for m in data["months"]
        ],
    )
    counts = ("raised", "answered", "resolved", "open", "overdue")
    heads = [N_("Raised"), N_("Answered"), N_("Resolved since"), N_("Open"), N_("Overdue")]
    sheet(
        N_("Suggestions by level"),
        [N_("Level"), *heads],
        [
            [None if r["key"] is None else int(r["key"]), *(r[c] for c in counts)]
            for r in data["by_level"]
        ],
    )
    sheet(
        N_("Suggestions by department"),
        [N_("Department"), *heads],
        [
            [
                data["departments"].get(r["key"] or "", r["key"]) or _("not assigned"),
                *(r[c] for c in counts),
            ]
            for r in data["by_department"]
        ],
    )
    sheet(
        N_("Members most behind"),
        [
            N_("Name"),
            N_("Tier"),
            N_("Unit"),
            N_("Links behind"),
            N_("Not contacted"),
            N_("Contacts owed"),
        ],
        [
            [
                (data["people"].get(r["member_id"]) or {}).get("name") or "—",
                _(TIER_LABELS.get(r["tier"], r["tier"])),
                data["names"].get((data["people"].get(r["member_id"]) or {}).get("unit_id"), ""),
                r["links"],
                r["none"],
                r["owed"],
            ]
            for r in data["behind"]
        ],
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
