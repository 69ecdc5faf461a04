"""The roster for federation staff: unit tree, member search, member page with chain and
links, link and relink with the span shown, over-span and unlinked lists, bulk import."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.frontend import import_problems
from web.frontend.deps import AdminDep, ApiDep, FormDep, StaffDep, federation_clock
from web.frontend.errors import Problem, describe
from web.frontend.i18n import N_
from web.frontend.rendering import language_of, render
from web.frontend.routes.common import flatten_units, unit_names
from web.frontend.services import ServiceError

router = APIRouter(prefix="/directory", tags=["frontend"])
UPPER_TIER = {"committee": "leader", "representative": "committee", "worker": "representative"}
LINK_FIELDS = frozenset({"upper_member_id", "assigned_on", "span_override_reason"})
DONE = {
    "details": N_("Details saved."),
    "tier": N_("Tier changed."),
    "move": N_("Moved to the other unit."),
    "departure": N_("Departure recorded."),
    "forget": N_("The member's personal data was destroyed."),
    "registered": N_("Member registered."),
}
"""What the member's page says after one of its forms (``?done=``) succeeded."""


@router.get("")
async def roster(request: Request, user: StaffDep, api: ApiDep, q: str | None = None) -> Response:
    """The unit tree and member search."""
    tree = await api.get("roster", "/units")
    found = await api.get("roster", "/members", q=q.strip(), limit=50) if q and q.strip() else None
    context = {"tree": tree, "q": q or "", "found": found, "units": await unit_names(api)}
    return render(request, "roster.html", context)


async def member_page_for(
    request: Request,
    api: Any,
    member_id: str,
    *,
    upper_q: str | None = None,
    problem: Problem | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    open_form: str | None = None,
    notice: str | None = None,
) -> Response:
    """The member's page; ``open_form`` is the upkeep form shown again with ``problem``
    beside its fields and ``values`` as typed."""
    member = await api.get("roster", f"/members/{member_id}")
    chain = await api.get("roster", f"/members/{member_id}/chain")
    lower = await api.get("roster", f"/members/{member_id}/lower-members", limit=500)
    policy = await api.get("roster", "/policy/span")
    links = []
    if member["tier"] != "worker":
        links = await api.get("contacts", f"/members/{member_id}/links")
    standing = {link["link"]["lower_member_id"]: link for link in links}
    candidates = None
    upper_tier = UPPER_TIER.get(member["tier"])
    if upper_q and upper_tier:
        hits = await api.get("roster", "/members", q=upper_q.strip(), limit=50)
        candidates = [
            m for m in hits["data"] if m["tier"] == upper_tier and m["status"] == "active"
        ]
    today = federation_clock(request).today().isoformat()
    context = {
        "member": member,
        "chain": chain,
        "lower": lower,
        "standing": standing,
        "target": policy.get(member["tier"]),
        "policy": policy,
        "upper_tier": upper_tier,
        "upper_q": upper_q or "",
        "candidates": candidates,
        "units": await unit_names(api),
        "problem": problem if open_form is None else None,
        "values": values if open_form is None and values else {"assigned_on": today},
        "today": today,
        "open_form": open_form,
        "form_problem": problem if open_form else None,
        "form_values": values if open_form else {},
        "unit_list": flatten_units(await api.get("roster", "/units")),
        "notice": notice,
    }
    return render(request, "member.html", context, status)


@router.get("/members/{member_id}")
async def member_page(
    request: Request, member_id: str, user: StaffDep, api: ApiDep, upper_q: str | None = None
) -> Response:
    """One member: details, chain up to the top, lower members with their standing."""
    notice = DONE.get(request.query_params.get("done") or "")
    return await member_page_for(request, api, member_id, upper_q=upper_q, notice=notice)


@router.post("/members/{member_id}/link")
async def link(
    request: Request, member_id: str, user: AdminDep, api: ApiDep, form: FormDep
) -> Response:
    """Link the member under an upper member, or move them to another (relink)."""
    member = await api.get("roster", f"/members/{member_id}")
    body = {
        "upper_member_id": form.get("upper_member_id") or None,
        "lower_member_id": member_id,
        "assigned_on": form.get("assigned_on") or None,
        "span_override_reason": (form.get("span_override_reason") or "").strip() or None,
    }
    path = "/links/relink" if member["upper_member_id"] else "/links"
    try:
        await api.post("roster", path, body, key=form.get("key"))
    except ServiceError as error:
        if error.status == 401:
            raise
        problem = describe(error, LINK_FIELDS)
        return await member_page_for(
            request,
            api,
            member_id,
            upper_q=form.get("upper_q"),
            problem=problem,
            values=form,
        )
    return RedirectResponse(f"/directory/members/{member_id}?linked=1", status_code=303)


@router.get("/exposure")
async def exposure(
    request: Request, user: StaffDep, api: ApiDep, tier: str | None = None
) -> Response:
    """Upper members over their target span, and members nobody keeps in contact with."""
    over = await api.get("roster", "/members/over-span")
    unlinked = await api.get("roster", "/members/unlinked", tier=tier, limit=200)
    context = {"over": over, "unlinked": unlinked, "units": await unit_names(api), "tier": tier}
    return render(request, "exposure.html", context)


@router.get("/import")
async def import_form(request: Request, user: AdminDep) -> Response:
    """Upload an XLSX workbook or CSV file; a dry run first shows what it would do."""
    return render(request, "import.html", {"values": {"dry_run": "1"}, "report": None})


@router.get("/import/template")
async def import_template(request: Request, user: AdminDep, api: ApiDep) -> Response:
    """The roster's import template (Chinese headers, each column explained, the units with
    their codes), handed on."""
    answer = await api.download("roster", "/imports/template")
    keep = ("content-type", "content-disposition")
    return Response(answer.content, headers={k: v for k, v in answer.headers.items() if k in keep})


def _readable(request: Request, report: dict[str, Any]) -> dict[str, Any]:
    """The report with its problems' sheets and messages in the user's language."""
    lang = language_of(request)
    problems = [
        {
            **p,
            # A CSV file's "sheet" is its kind; a workbook's is the sheet as the file names it.
            "sheet": import_problems.sheet_name(lang, p["sheet"])
            if report.get("encoding")
            else p["sheet"],
            "message": import_problems.translate(lang, p["message"]),
        }
        for p in report["problems"]
    ]
    return {**report, "problems": problems}


@router.post("/import")
async def import_file(request: Request, user: AdminDep, api: ApiDep, form: FormDep) -> Response:
    """Send the file to the roster's import (dry run or for real) and show its report. A real
    import is checked by a dry run first: a file with problems shows that report (the roster
    would refuse the file as a whole, storing nothing)."""
    upload = form.get("file")
    values = {"kind": form.get("kind", ""), "dry_run": form.get("dry_run", "")}
    if upload is None or isinstance(upload, str) or not upload.filename:
        errors = {"file": N_("Please choose a file.")}
        return render(request, "import.html", {"values": values, "errors": errors, "report": None})
    content = await upload.read()
    files = {"file": (upload.filename, content, upload.content_type or "application/octet-stream")}
    kind = {"kind": values["kind"]} if values["kind"] else {}
    try:
        report = await api.post(
            "roster", "/imports", None, params={"dry_run": "true", **kind}, files=files
        )
        if not values["dry_run"] and not report["problem_count"]:
            report = await api.post(
                "roster", "/imports", None, params={"dry_run": "false", **kind}, files=files
            )
    except ServiceError as error:
        if error.status == 401:
            raise
        if error.code == "import_problems" and isinstance(error.extra.get("report"), dict):
            # The file's problems, as the dry run reports them: nothing was stored.
            return render(
                request, "import.html", {"values": values, "report": error.extra["report"]}
            )
        problem = describe(error, {"file", "kind"})
        context = {"values": values, "errors": problem.fields, "problem": problem, "report": None}
        return render(request, "import.html", context)
    context = {
        "values": values,
        "report": _readable(request, report),
        "asked_real": not values["dry_run"],
    }
    return render(request, "import.html", context)
