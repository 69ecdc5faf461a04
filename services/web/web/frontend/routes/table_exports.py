"""The compliance and queue tables as CSV or XLSX: every filter of the page, names, tiers,
units and phones beside the ids, headers in the user's language."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.frontend import exports
from web.frontend.deps import Api, ApiDep, StaffDep, User, federation_clock
from web.frontend.exports import Column, Table, as_date
from web.frontend.i18n import N_, Language
from web.frontend.labels import (
    CATEGORY_LABELS,
    DEADLINE_LABELS,
    STATUS_LABELS,
    SUGGESTION_STATUS_LABELS,
    TIER_LABELS,
)
from web.frontend.rendering import language_of
from web.frontend.routes.common import flatten_units, members_by_id
from web.frontend.routes.tables import first_lines

router = APIRouter(tags=["frontend"])
BATCH = 500
"""Rows asked of the reports service per call (its largest page)."""


async def all_pages(api: Api, path: str, **params: Any) -> dict[str, Any]:
    """Every row of a paged reports table, with the first page's other fields."""
    first: dict[str, Any] = await api.get("reports", path, limit=BATCH, offset=0, **params)
    rows = list(first["data"])
    while len(rows) < first["count"]:
        more = await api.get("reports", path, limit=BATCH, offset=len(rows), **params)
        if not more["data"]:
            break
        rows.extend(more["data"])
    return {**first, "data": rows}


def _person(people: dict[str, dict[str, Any]], key: str, field: str) -> Any:
    return lambda row: (people.get(str(row.get(key))) or {}).get(field)


def _label(lang: Language, labels: dict[str, str], key: str) -> Any:
    return lambda row: lang.gettext(labels[row[key]]) if row.get(key) in labels else row.get(key)


def compliance_columns(
    lang: Language, people: dict[str, dict[str, Any]], units: dict[str, str], phones: bool
) -> list[Column]:
    """The columns of the compliance export."""

    def unit_of(key: str) -> Any:
        return lambda row: units.get(str((people.get(str(row[key])) or {}).get("unit_id")), "")

    columns = [
        Column(N_("Upper member"), _person(people, "upper_member_id", "name")),
        Column(N_("Tier of the upper member"), _label(lang, TIER_LABELS, "upper_tier")),
        Column(N_("Unit of the upper member"), unit_of("upper_member_id"), 22),
        Column(N_("Phone of the upper member"), _person(people, "upper_member_id", "phone")),
        Column(N_("Lower member"), _person(people, "lower_member_id", "name")),
        Column(
            N_("Tier of the lower member"),
            lambda row: (
                lang.gettext(TIER_LABELS.get(tier, tier))
                if (tier := (people.get(str(row["lower_member_id"])) or {}).get("tier"))
                else None
            ),
        ),
        Column(N_("Unit"), lambda row: units.get(str(row["lower_unit_id"]), ""), 22),
        Column(N_("Phone of the lower member"), _person(people, "lower_member_id", "phone")),
        Column(N_("Status"), _label(lang, STATUS_LABELS, "status")),
        Column(N_("Contacts made"), lambda row: row["counted"]),
        Column(N_("Contacts owed"), lambda row: row["required"]),
        Column(N_("Last contact"), lambda row: as_date(row.get("last_contact_on"))),
        Column(N_("Next due"), lambda row: as_date(row.get("next_due"))),
        Column(N_("Linked on"), lambda row: as_date(row.get("assigned_on"))),
        Column(N_("Link ended on"), lambda row: as_date(row.get("unassigned_on"))),
        Column(N_("Upper member's id"), lambda row: row["upper_member_id"], 38),
        Column(N_("Lower member's id"), lambda row: row["lower_member_id"], 38),
        Column(N_("Link id"), lambda row: row["link_id"], 38),
    ]
    hidden = {N_("Phone of the upper member"), N_("Phone of the lower member")}
    return [c for c in columns if phones or c.header not in hidden]


def queue_columns(
    lang: Language,
    people: dict[str, dict[str, Any]],
    units: dict[str, str],
    lines: dict[str, str],
    departments: dict[str, str],
) -> list[Column]:
    """The columns of the escalation queue's export."""
    return [
        Column(N_("Suggestion"), lambda row: lines.get(str(row["suggestion_id"])), 40),
        Column(N_("Category"), _label(lang, CATEGORY_LABELS, "category")),
        Column(N_("Status"), _label(lang, SUGGESTION_STATUS_LABELS, "status")),
        Column(
            N_("Held by"),
            lambda row: (
                (people.get(str(row["holder_id"])) or {}).get("name")
                if row.get("holder_id")
                else lang.gettext(N_("the federation leadership"))
            ),
        ),
        Column(N_("Tier of the holder"), _label(lang, TIER_LABELS, "holder_tier")),
        Column(N_("Level"), lambda row: row["level"]),
        Column(N_("Times passed up"), lambda row: row["escalations"]),
        Column(
            N_("Department"),
            lambda row: departments.get(row.get("department") or "", row.get("department")),
        ),
        Column(
            N_("Unit of the raiser"), lambda row: units.get(str(row.get("subject_unit_id")), ""), 22
        ),
        Column(N_("Hours waiting"), lambda row: round(float(row["age_hours"]), 1)),
        Column(N_("Deadline"), _label(lang, DEADLINE_LABELS, "deadline")),
        Column(
            N_("Hours to the deadline"),
            lambda row: (
                None
                if row.get("hours_to_deadline") is None
                else round(float(row["hours_to_deadline"]), 1)
            ),
        ),
        Column(N_("Suggestion id"), lambda row: row["suggestion_id"], 38),
    ]


def _send(request: Request, table: Table, format: str, fallback: str) -> Response:
    lang = language_of(request)
    today = federation_clock(request).today()
    name = exports.file_name(lang, table, today, format)
    if format == "csv":
        body, media = exports.to_csv(lang, table), "text/csv; charset=utf-8"
    else:
        body, media = exports.to_xlsx(lang, table), exports.XLSX
    disposition = exports.disposition(name, f"{fallback}-{today.isoformat()}.{format}")
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


@router.get("/export/compliance.{format}")
async def export_compliance(
    request: Request,
    format: Literal["csv", "xlsx"],
    user: StaffDep,
    api: ApiDep,
    period: str | None = None,
    unit_id: str | None = None,
    tier: str | None = None,
    status: str | None = None,
    upper_member_id: str | None = None,
) -> Response:
    """The compliance table exactly as the page filters it (period, unit, tier, status,
    upper member), every row of it."""
    lang = language_of(request)
    current = str(federation_clock(request).today().year)
    period = period or current
    filters = {
        "unit_id": unit_id,
        "tier": tier,
        "status": status,
        "upper_member_id": upper_member_id,
    }
    found = await all_pages(api, "/compliance", period=period, **filters)
    units = {u["unit_id"]: u["name"] for u in flatten_units(await api.get("roster", "/units"))}
    ids = [link[k] for link in found["data"] for k in ("upper_member_id", "lower_member_id")]
    people = await members_by_id(api, ids)
    parts = [period if period != current else ""]
    parts.append(units.get(unit_id or "", ""))
    parts.append(lang.gettext(TIER_LABELS[tier]) if tier in TIER_LABELS else "")
    parts.append(lang.gettext(STATUS_LABELS[status]) if status in STATUS_LABELS else "")
    if upper_member_id:
        parts.append((people.get(upper_member_id) or {}).get("name") or "")
    columns = compliance_columns(lang, people, units, phones=_sees_phones(user))
    table = Table(N_("Compliance"), columns, found["data"], parts)
    return _send(request, table, format, "compliance")


@router.get("/export/queue.{format}")
async def export_queue(
    request: Request,
    format: Literal["csv", "xlsx"],
    user: StaffDep,
    api: ApiDep,
    unit_id: str | None = None,
    level: str | None = None,
    department: str | None = None,
) -> Response:
    """The escalation queue exactly as the page filters it (unit, level, department)."""
    lang = language_of(request)
    found = await all_pages(
        api, "/escalation-queue", unit_id=unit_id, level=level, department=department
    )
    units = {u["unit_id"]: u["name"] for u in flatten_units(await api.get("roster", "/units"))}
    people = await members_by_id(api, [q["holder_id"] for q in found["data"]])
    lines = await first_lines(api, [q["suggestion_id"] for q in found["data"]])
    departments = {d["code"]: d["name"] for d in await api.get("feedback", "/departments")}
    parts = [units.get(unit_id or "", "")]
    if level not in (None, ""):
        parts.append(lang.gettext(N_("level %(n)s")) % {"n": level})
    parts.append(departments.get(department or "", ""))
    columns = queue_columns(lang, people, units, lines, departments)
    table = Table(N_("Escalation queue"), columns, found["data"], parts)
    return _send(request, table, format, "escalation-queue")


def _sees_phones(user: User) -> bool:
    """Federation staff call people: their exports carry phones."""
    return user.is_staff


@router.get("/export/unlinked.{format}")
async def export_unlinked(
    request: Request,
    format: Literal["csv", "xlsx"],
    user: StaffDep,
    api: ApiDep,
    tier: str | None = None,
) -> Response:
    """The members nobody keeps in contact with, as the exposure page filters them (tier)."""
    lang = language_of(request)
    rows: list[dict[str, Any]] = []
    while True:
        found = await api.get(
            "roster", "/members/unlinked", tier=tier, limit=BATCH, offset=len(rows)
        )
        rows.extend(found["data"])
        if not found["data"] or len(rows) >= found["count"]:
            break
    units = {u["unit_id"]: u["name"] for u in flatten_units(await api.get("roster", "/units"))}
    columns = [
        Column(N_("Name"), lambda row: row.get("name")),
        Column(N_("Tier"), _label(lang, TIER_LABELS, "tier")),
        Column(N_("Unit"), lambda row: units.get(str(row["unit_id"]), ""), 22),
        Column(N_("Phone"), lambda row: row.get("phone")),
        Column(N_("External number"), lambda row: row.get("external_number")),
        Column(N_("Registered on"), lambda row: as_date(row.get("registered_on"))),
        Column(N_("Member's id"), lambda row: row["member_id"], 38),
    ]
    if not _sees_phones(user):
        columns = [c for c in columns if c.header != N_("Phone")]
    parts = [lang.gettext(TIER_LABELS[tier]) if tier in TIER_LABELS else ""]
    return _send(request, Table(N_("Unlinked"), columns, rows, parts), format, "unlinked")
