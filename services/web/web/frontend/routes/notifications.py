"""A member's notifications (待办): the count in the header of every page, the list (read or
unread), their channels (email, digests) and their calendar URL; the calendar itself, which
phone calendars fetch without a sign-in (the secret in its URL is the credential); for staff,
the sends that failed for good."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.frontend.deps import (
    AdminDep,
    ApiDep,
    FormDep,
    MemberDep,
    StaffDep,
    ToldDep,
    User,
    as_list,
    current_user,
)
from web.frontend.errors import describe
from web.frontend.i18n import N_
from web.frontend.rendering import render
from web.frontend.routes.common import flatten_units, members_by_id
from web.frontend.services import ServiceError, Services

router = APIRouter(tags=["frontend"])
DELIVERY_STATES = {
    "failed": N_("Failed for good"),
    "pending": N_("Waiting to be sent"),
    "delivered": N_("Delivered"),
}
FIELDS = frozenset({"email", "digests", "frequency"})
KIND_LABELS = {
    "contacts_due": N_("Contacts due"),
    "contact_overdue": N_("Contact overdue"),
    "suggestion_arrived": N_("Suggestion received"),
    "suggestion_deadline": N_("Suggestion deadline"),
    "suggestion_escalated": N_("Suggestion passed up to you"),
    "suggestion_answered": N_("Suggestion answered"),
    "suggestion_resolved": N_("Suggestion resolved"),
    "urge": N_("Urged by the federation"),
}


async def _page(
    request: Request, api: ApiDep, calendar_url: str | None = None, **context: Any
) -> Response:
    # The texts name the people: notify fills the names in from the roster as it answers.
    listed = await api.get("notify", "/me/notifications")
    user: User | None = current_user(request)
    if user is not None and not user.member_id:
        # Staff: the units whose monthly digest comes to this page (and by email).
        values = {
            "items": listed["data"],
            "unread": listed["unread"],
            "kinds": KIND_LABELS,
            "staff_preferences": await api.get("notify", "/me/staff-preferences"),
            "units": flatten_units(await api.get("roster", "/units")),
            "problem": None,
            **context,
        }
        return render(request, "notifications.html", values)
    preferences = await api.get("notify", "/me/preferences")
    feeds = await api.get("notify", "/me/calendar")
    values = {
        "items": listed["data"],
        "unread": listed["unread"],
        "preferences": preferences,
        "feeds": feeds,
        "calendar_url": calendar_url,
        "kinds": KIND_LABELS,
        "problem": None,
        **context,
    }
    return render(request, "notifications.html", values)


@router.get("/notifications")
async def notifications(request: Request, user: ToldDep, api: ApiDep) -> Response:
    """The member's (or staff's) notifications, newest first, unread ones marked; their
    channels."""
    return await _page(request, api)


@router.get("/notifications/count")
async def unread_count(request: Request, api: ApiDep) -> Response:
    """The 待办 count, as the header shows it (htmx); nothing for someone without one."""
    user = current_user(request)
    if user is None or not (user.member_id or user.is_admin):
        return HTMLResponse("")
    try:
        unread = (await api.get("notify", "/me/unread"))["unread"]
    except ServiceError:
        return HTMLResponse("")  # the count is a convenience: its absence breaks no page
    return render(request, "_todo_count.html", {"unread": unread})


@router.post("/notifications/{notification_id}/read")
async def mark_read(notification_id: str, user: ToldDep, api: ApiDep, form: FormDep) -> Response:
    """Mark one notification read, then show the list again."""
    await api.post("notify", f"/me/notifications/{notification_id}/read", key=form.get("key"))
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/preferences")
async def set_preferences(
    request: Request, user: MemberDep, api: ApiDep, form: FormDep
) -> Response:
    """Set where emails go (none when empty) and whether digests come."""
    body = {
        "email": (form.get("email") or "").strip() or None,
        "digests": "digests" in form,
        "frequency": form.get("frequency") or "federation",
    }
    try:
        await api.post("notify", "/me/preferences", body, key=form.get("key"))
    except ServiceError as error:
        if error.status >= 500:
            raise
        problem = describe(error, FIELDS)
        return await _page(request, api, problem=problem, errors=problem.fields, values=body)
    return await _page(request, api, notice=N_("Saved."))


@router.post("/notifications/staff-preferences")
async def set_staff_preferences(
    request: Request, user: AdminDep, api: ApiDep, form: FormDep
) -> Response:
    """Staff: where emails go (none when empty) and the units whose monthly digest comes."""
    body = {
        "email": (form.get("email") or "").strip() or None,
        "units": [str(u) for u in as_list(form.get("units"))],
    }
    try:
        await api.post("notify", "/me/staff-preferences", body, key=form.get("key"))
    except ServiceError as error:
        if error.status >= 500:
            raise
        problem = describe(error, frozenset({"email", "units"}))
        return await _page(request, api, problem=problem, errors=problem.fields, values=body)
    return await _page(request, api, notice=N_("Saved."))


@router.post("/notifications/calendar")
async def issue_calendar(request: Request, user: MemberDep, api: ApiDep, form: FormDep) -> Response:
    """A new secret calendar URL, shown once: subscribe to it in the phone's calendar."""
    issued = await api.post("notify", "/me/calendar", key=form.get("key"))
    url = str(request.base_url).rstrip("/") + issued["path"]
    return await _page(request, api, calendar_url=url)


@router.post("/notifications/calendar/{feed_id}/revoke")
async def revoke_calendar(
    request: Request, feed_id: str, user: MemberDep, api: ApiDep, form: FormDep
) -> Response:
    """Revoke a calendar URL: the phone's subscription stops updating."""
    await api.post("notify", f"/me/calendar/{feed_id}/revoke", key=form.get("key"))
    return await _page(request, api, notice=N_("The calendar address no longer works."))


@router.get("/notifications/sending")
async def sending_record(
    request: Request, user: StaffDep, api: ApiDep, status: str = "failed"
) -> Response:
    """For staff: the notifications whose sending failed for good (or, with ``status``, the
    pending and the delivered ones), with the channel's answer."""
    chosen = status if status in DELIVERY_STATES else "failed"
    listed = await api.get("notify", "/deliveries", status=chosen)
    rows = listed["data"]
    context = {
        "rows": rows,
        "status": chosen,
        "states": DELIVERY_STATES,
        "people": await members_by_id(api, [r["member_id"] for r in rows]),
    }
    return render(request, "sending_record.html", context)


@router.get("/calendar/{token}.ics", include_in_schema=False)
async def calendar(
    request: Request,
    token: str = Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$"),
) -> Response:
    """The calendar at its secret URL, passed on from the notify service as it answered."""
    services: Services = request.app.state.services
    try:
        answer = await services.request("notify", "GET", f"/calendar/{token}.ics", token=None)
    except ServiceError as error:
        return Response(status_code=404 if error.status == 404 else 503)
    headers = {"Cache-Control": answer.headers.get("Cache-Control", "private, max-age=300")}
    return Response(answer.content, media_type=answer.headers["content-type"], headers=headers)
