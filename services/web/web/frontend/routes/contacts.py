"""My contacts: a member's links with their standing, the two-tap contact, group meetings.

Each form posts as a plain HTML form (the pages work without JavaScript); the phone's outbox
(``static/offline.js``) sends the same forms, queued while there is no network, and reads the
JSON answers of :mod:`web.frontend.outbox`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from web.frontend.deps import Api, ApiDep, FormDep, MemberDep, User, as_list, federation_clock
from web.frontend.errors import Problem, describe
from web.frontend.i18n import N_
from web.frontend.outbox import answer, retryable, wants_json
from web.frontend.rendering import render
from web.frontend.services import ServiceError
from web.frontend.session import csrf_token

router = APIRouter(prefix="/my-contacts", tags=["frontend"])
METHODS = ("visit", "phone", "online", "meeting")
CONTACT_FIELDS = frozenset({"contacted_on", "method", "note", "lower_member_id"})
MEETING_FIELDS = frozenset({"lower_member_ids", "contacted_on", "method", "note"})
STATUS_ORDER = {"none": 0, "behind": 1, "met": 2}
UNDO_SECONDS = 300
"""How long a contact just logged can be undone in one tap; later, the contact card withdraws
it with a reason."""
UNDO_KEPT = 5
"""At most this many undo offers ride in the session cookie (a few hundred bytes)."""
LOGGED = N_("Contact logged.")


def today(request: Request) -> str:
    """Today in the federation's time zone, as the contacts service counts it (the app's
    clock: the one the services of the embedded app use)."""
    return federation_clock(request).today().isoformat()


def contact_id_for(key: Any) -> str:
    """The id of the contact a form logs, made from the form's Idempotency-Key: the same form
    sent again (the outbox after a lost answer) names the same contact, so the retry is the
    same request and the service stores it once; and the page knows which contact to undo."""
    try:
        return str(uuid.uuid5(uuid.UUID(str(key)), "contact"))
    except ValueError:
        return str(uuid.uuid4())  # no key: a plain contact (the service refuses a bad key)


def offer_undo(session: dict[str, Any], contact_id: str, lower: str) -> None:
    """Remember in the session that ``contact_id`` was just logged (see :func:`undo_offers`)."""
    offers = live_offers(session)
    offers[contact_id] = [lower, time.time()]
    session["undo"] = dict(sorted(offers.items(), key=lambda o: o[1][1])[-UNDO_KEPT:])


def live_offers(session: dict[str, Any]) -> dict[str, list[Any]]:
    """The contacts logged in this session less than :data:`UNDO_SECONDS` ago, by id, each
    with its lower member and when it was logged."""
    now = time.time()
    offers = session.get("undo")
    if not isinstance(offers, dict):
        return {}
    return {cid: offer for cid, offer in offers.items() if now - offer[1] < UNDO_SECONDS}


def undo_offers(session: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per lower member, the latest contact that can still be undone in one tap, and until
    when (milliseconds since the epoch, for the page's script)."""
    found: dict[str, dict[str, Any]] = {}
    for contact_id, (lower, at) in sorted(live_offers(session).items(), key=lambda o: o[1][1]):
        found[lower] = {"contact_id": contact_id, "until": int((at + UNDO_SECONDS) * 1000)}
    return found


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


def row_context(
    request: Request,
    *,
    notices: dict[str, str] | None = None,
    problem: Problem | None = None,
    open_row: str | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a row of my contacts (``_contact_row.html``) reads besides the row itself:
    ``notices`` by lower member (only those rows confirm), a refusal for the ``open_row``."""
    return {
        "today": today(request),
        "methods": METHODS,
        "values": values or {},
        "problem": problem,
        "open_row": open_row,
        "row_notices": notices or {},
        "undo_for": undo_offers(request.scope.get("session", {})),
    }


def rows_html(
    request: Request, rows: list[dict[str, Any]], lowers: Iterable[str], context: dict[str, Any]
) -> dict[str, str]:
    """The rows of these lower members, rendered, by element id (for the outbox to redraw)."""
    by_lower = {r["link"]["lower_member_id"]: r for r in rows}
    return {
        f"link-{lid}": bytes(
            render(request, "_contact_row.html", {**context, "row": by_lower[lid]}).body
        ).decode()
        for lid in lowers
        if lid in by_lower
    }


async def contacts_page(
    request: Request, user: User, api: Api, context: dict[str, Any], notice: str | None = None
) -> Response:
    """The page of my contacts with ``context`` (from :func:`row_context`)."""
    rows = await my_links(api, user)
    me = await api.get("roster", f"/members/{user.member_id}")
    inbox = await api.get("feedback", f"/members/{user.member_id}/inbox", limit=1)
    page = {**context, "rows": rows, "me": me, "inbox_count": inbox["count"], "notice": notice}
    return render(request, "contacts.html", page)


@router.get("")
async def my_contacts(request: Request, user: MemberDep, api: ApiDep) -> Response:
    """The member's links with status and due dates; a contact is two taps away. After a
    contact or a meeting (``logged``: the lower members it was logged for) only their rows
    confirm it; ``undone`` names the row whose contact was just undone."""
    query = request.query_params
    notices = {lid: LOGGED for lid in query.getlist("logged")}
    if undone := query.get("undone"):
        notices[undone] = N_("Undone: it no longer counts.")
    notice = (
        N_("Meeting logged: one contact for each participant.") if query.get("meeting") else None
    )
    return await contacts_page(request, user, api, row_context(request, notices=notices), notice)


@router.get("/session")
async def outbox_session(request: Request, user: MemberDep) -> Response:
    """What the phone's outbox needs before it sends what it kept: the session's CSRF token
    and whose session it is. The outbox keeps no token of its own: a token is the session's
    (``session.py``), so one saved with an entry is stale once the user signed in again (a new
    session), and a page shown from the phone's cache may carry an old one. Other sites cannot
    read this answer (no CORS), so it gives them nothing."""
    body = {"csrf": csrf_token(request.scope["session"]), "member_id": user.member_id}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/log")
async def log_contact(request: Request, user: MemberDep, api: ApiDep, form: FormDep) -> Response:
    """Log one contact on a link (the lower member's row sends it)."""
    lower = str(form.get("lower_member_id", ""))
    contact_id = contact_id_for(form.get("key"))
    body = {
        "contact_id": contact_id,
        "upper_member_id": user.member_id,
        "lower_member_id": lower,
        "contacted_on": form.get("contacted_on") or today(request),
        "method": form.get("method", ""),
        "note": (form.get("note") or "").strip() or None,
    }
    problem: Problem | None = None
    retry = False
    try:
        await api.post("contacts", "/contacts", body, key=form.get("key"))
    except ServiceError as error:
        if error.status == 401:
            raise
        problem, retry = describe(error, CONTACT_FIELDS), retryable(error)
    if problem is None:
        offer_undo(request.scope["session"], contact_id, lower)
    if wants_json(request):
        rows = await my_links(api, user)
        notices = {} if problem else {lower: LOGGED}
        html = rows_html(request, rows, [lower], row_context(request, notices=notices))
        return answer(request, problem=problem, retry=retry, rows=html)
    if problem is None:
        return RedirectResponse(f"/my-contacts?logged={lower}#link-{lower}", status_code=303)
    context = row_context(request, problem=problem, open_row=lower, values=form)
    return await contacts_page(request, user, api, context)


async def meeting_context(request: Request, api: Api, user: User) -> dict[str, Any]:
    """The meeting form's participants, those who still owe contacts first, with how many."""
    rows = await my_links(api, user)
    due = await api.get("contacts", f"/members/{user.member_id}/due")
    owing = {
        item["link"]["lower_member_id"]: item["standing"]["required"] - item["standing"]["counted"]
        for item in due["data"]
    }
    rows.sort(key=lambda r: r["link"]["lower_member_id"] not in owing)  # stable: keeps the order
    return {"rows": rows, "owing": owing, "today": today(request), "methods": METHODS}


@router.get("/meeting")
async def meeting_form(request: Request, user: MemberDep, api: ApiDep) -> Response:
    """A group meeting (座谈) with several of the member's contacts at once; the form shows who
    still owes contacts this period (the contacts service's due list)."""
    context = await meeting_context(request, api, user)
    values = {"method": "meeting"}
    return render(request, "meeting.html", {**context, "values": values, "problem": None})


def meeting_logged(chosen: list[str]) -> str:
    """My contacts after a meeting: only the participants' rows confirm it."""
    return "/my-contacts?" + urlencode([("meeting", "1"), *(("logged", lid) for lid in chosen)])


@router.post("/meeting")
async def log_meeting(request: Request, user: MemberDep, api: ApiDep, form: FormDep) -> Response:
    """One contact per participant's link, all or nothing."""
    chosen = [str(lid) for lid in as_list(form.get("lower_member_ids"))]
    body = {
        "upper_member_id": user.member_id,
        "lower_member_ids": chosen,
        "contacted_on": form.get("contacted_on") or today(request),
        "method": form.get("method") or "meeting",
        "note": (form.get("note") or "").strip() or None,
    }
    try:
        await api.post("contacts", "/meetings", body, key=form.get("key"))
    except ServiceError as error:
        if error.status == 401:
            raise
        problem = describe(error, MEETING_FIELDS)
        if wants_json(request):
            return answer(request, problem=problem, retry=retryable(error))
        context = await meeting_context(request, api, user)
        values = {**form, "lower_member_ids": chosen}
        return render(request, "meeting.html", {**context, "values": values, "problem": problem})
    if wants_json(request):
        rows = await my_links(api, user)
        context = row_context(request, notices=dict.fromkeys(chosen, LOGGED))
        html = rows_html(request, rows, chosen, context)
        return answer(request, rows=html, next=meeting_logged(chosen))
    return RedirectResponse(meeting_logged(chosen), status_code=303)
