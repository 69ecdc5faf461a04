"""My contacts: a member's links with their standing, the two-tap contact, group meetings."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from eventspine.config import Settings
from web.frontend.deps import Api, ApiDep, FormDep, MemberDep, User, as_list
from web.frontend.errors import Problem, describe
from web.frontend.i18n import N_
from web.frontend.rendering import render
from web.frontend.services import ServiceError

router = APIRouter(prefix="/my-contacts", tags=["frontend"])
METHODS = ("visit", "phone", "online", "meeting")
CONTACT_FIELDS = frozenset({"contacted_on", "method", "note", "lower_member_id"})
STATUS_ORDER = {"none": 0, "behind": 1, "met": 2}


def today() -> str:
    """Today in the federation's time zone, as the contacts service counts it."""
    return federation_date(datetime.now(UTC)).isoformat()


@cache
def _settings() -> Settings:
    return Settings()


def federation_date(now: datetime) -> date:
    """The federation's date at ``now`` (``SANLIAN_TIMEZONE``)."""
    return _settings().local_date(now)


async def my_links(api: Api, user: User) -> list[dict[str, Any]]:
    """The member's links, each with the lower member's roster entry, least compliant first."""
    links = await api.get("contacts", f"/members/{user.member_id}/links")
    lower = await api.get("roster", f"/members/{user.member_id}/lower-members", limit=500)
    people = {m["member_id"]: m for m in lower["data"]}
    rows = [{**link, "member": people.get(link["link"]["lower_member_id"])} for link in links]
    rows.sort(
        key=lambda r: (
            STATUS_ORDER.get(r["standing"]["status"], 3),
            r["standing"]["next_due"] or "9999",
            (r["member"] or {}).get("name") or "",
        )
    )
    return rows


@router.get("")
async def my_contacts(request: Request, user: MemberDep, api: ApiDep) -> Response:
    """The member's links with status and due dates; a contact is two taps away."""
    rows = await my_links(api, user)
    me = await api.get("roster", f"/members/{user.member_id}")
    inbox = await api.get("feedback", f"/members/{user.member_id}/inbox", limit=1)
    context = {
        "rows": rows,
        "me": me,
        "inbox_count": inbox["count"],
        "today": today(),
        "methods": METHODS,
        "notice": N_("Contact logged.") if request.query_params.get("logged") else None,
        "open_row": None,
    }
    return render(request, "contacts.html", context)


@router.post("/log")
async def log_contact(request: Request, user: MemberDep, api: ApiDep, form: FormDep) -> Response:
    """Log one contact on a link (the lower member's row sends it)."""
    htmx = bool(request.headers.get("HX-Request"))
    lower = str(form.get("lower_member_id", ""))
    body = {
        "upper_member_id": user.member_id,
        "lower_member_id": lower,
        "contacted_on": form.get("contacted_on") or today(),
        "method": form.get("method", ""),
        "note": (form.get("note") or "").strip() or None,
    }
    problem: Problem | None = None
    try:
        await api.post("contacts", "/contacts", body, key=form.get("key"))
    except ServiceError as error:
        if error.status == 401:
            raise
        problem = describe(error, CONTACT_FIELDS)
    if not htmx and problem is None:
        return RedirectResponse(f"/my-contacts?logged={lower}#link-{lower}", status_code=303)
    rows = await my_links(api, user)
    context = {
        "today": today(),
        "methods": METHODS,
        "values": form if problem else {},
        "problem": problem,
        "open_row": lower if problem else None,
    }
    if htmx:
        row = next((r for r in rows if r["link"]["lower_member_id"] == lower), None)
        if row is None:  # not one of this member's links: show the refusal on the page
            return render(request, "error.html", {"message": N_("Not found.")}, 404)
        notice = None if problem else N_("Contact logged.")
        return render(request, "_contact_row.html", {**context, "row": row, "notice": notice})
    me = await api.get("roster", f"/members/{user.member_id}")
    inbox = await api.get("feedback", f"/members/{user.member_id}/inbox", limit=1)
    page = {**context, "rows": rows, "me": me, "inbox_count": inbox["count"]}
    return render(request, "contacts.html", page)


@router.get("/meeting")
async def meeting_form(request: Request, user: MemberDep, api: ApiDep) -> Response:
    """A group meeting (座谈) with several of the member's contacts at once."""
    rows = await my_links(api, user)
    context = {"rows": rows, "today": today(), "methods": METHODS, "values": {"method": "meeting"}}
    return render(request, "meeting.html", context)


@router.post("/meeting")
async def log_meeting(request: Request, user: MemberDep, api: ApiDep, form: FormDep) -> Response:
    """One contact per participant's link, all or nothing."""
    chosen = as_list(form.get("lower_member_ids"))
    body = {
        "upper_member_id": user.member_id,
        "lower_member_ids": chosen,
        "contacted_on": form.get("contacted_on") or today(),
        "method": form.get("method") or "meeting",
        "note": (form.get("note") or "").strip() or None,
    }
    try:
        await api.post("contacts", "/meetings", body, key=form.get("key"))
    except ServiceError as error:
        if error.status == 401:
            raise
        problem = describe(error, {"lower_member_ids", "contacted_on", "method", "note"})
        rows = await my_links(api, user)
        values = {**form, "lower_member_ids": chosen}
        context = {"rows": rows, "today": today(), "methods": METHODS, "values": values}
        return render(request, "meeting.html", {**context, "problem": problem})
    return RedirectResponse("/my-contacts?logged=meeting", status_code=303)


@router.get("/card/{link_id}")
async def contact_card(request: Request, link_id: str, user: MemberDep, api: ApiDep) -> Response:
    """The contact card (联系卡) of one link: every contact on it."""
    card = await api.get("contacts", f"/links/{link_id}/card")
    lower = await api.get("roster", f"/members/{card['link']['lower_member_id']}")
    return render(request, "card.html", {"card": card, "lower": lower})
