"""Signing in and out, the home page, and the language switch."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.frontend import i18n
from web.frontend.deps import Api, ApiDep, FormDep, current_user
from web.frontend.i18n import N_
from web.frontend.rendering import render
from web.frontend.services import ServiceError

router = APIRouter(tags=["frontend"])


def _safe_next(target: Any) -> str | None:
    # Only paths of this site: never an open redirect to another host.
    if isinstance(target, str) and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@router.get("/")
async def home(request: Request) -> Response:
    """Members start on their contacts, staff on the dashboard."""
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/my-contacts" if user.member_id else "/dashboard", status_code=303)


@router.get("/login")
async def login_form(
    request: Request,
    next: str | None = None,
    again: str | None = None,
    changed: str | None = None,
) -> Response:
    """The sign-in form; ``again`` when a service no longer accepted the session's token,
    ``changed`` after the user changed their password."""
    message = N_("Your session has ended. Please sign in again.") if again else None
    context = {"values": {"next": _safe_next(next) or ""}, "message": message}
    if changed:
        context["notice"] = N_("Your password was changed. Sign in with the new one.")
    return render(request, "login.html", context)


@router.post("/login")
async def login(request: Request, form: FormDep, api: ApiDep) -> Response:
    """Exchange username and password for a token (the roster's ``/auth/token``)."""
    values = {"username": form.get("username", ""), "next": _safe_next(form.get("next")) or ""}
    errors: dict[str, str] = {}
    if not values["username"]:
        errors["username"] = N_("Please fill this in.")
    if not form.get("password"):
        errors["password"] = N_("Please fill this in.")
    if errors:
        return render(request, "login.html", {"values": values, "errors": errors})
    try:
        response = await api.services.request(
            "roster",
            "POST",
            "/auth/token",
            token=None,
            data={"username": values["username"], "password": form["password"]},
        )
    except ServiceError as error:
        if error.status == 401:
            errors["password"] = N_("Wrong username or password.")
            return render(request, "login.html", {"values": values, "errors": errors})
        message = (
            N_("Too many attempts. Please wait a moment and try again.")
            if error.status == 429
            else N_("Signing in is not possible right now. Please try again shortly.")
        )
        context = {"values": values, "message": message, "retry_after": error.retry_after}
        return render(request, "login.html", context)
    granted = response.json()
    me = await _member_of(api, granted)
    session = request.scope["session"]
    session.clear()  # a new session on sign-in: no fixation of an earlier one
    session["user"] = {
        "username": values["username"],
        "role": granted["role"],
        "account_id": granted.get("account_id"),
        "member_id": granted.get("member_id"),
        "token": granted["access_token"],
        # The header says who is signed in by their name and tier, read once here.
        "name": me.get("name"),
        "tier": me.get("tier"),
    }
    return RedirectResponse(values["next"] or "/", status_code=303)


async def _member_of(api: Api, granted: dict[str, Any]) -> dict[str, Any]:
    """The signed-in member's roster entry (``GET /members/{id}`` with their new token); empty
    for staff, or when the roster cannot say (the header then shows the username)."""
    member_id = granted.get("member_id")
    if not member_id:
        return {}
    try:
        response = await api.services.request(
            "roster", "GET", f"/members/{member_id}", token=granted["access_token"]
        )
    except ServiceError:
        return {}
    found: dict[str, Any] = response.json()
    return found


@router.post("/logout")
async def logout(request: Request, form: FormDep) -> Response:
    """Forget the session (and its token)."""
    request.scope["session"].clear()
    return RedirectResponse("/login", status_code=303)


@router.post("/language")
async def choose_language(request: Request, form: FormDep) -> Response:
    """Remember the chosen language in a cookie and go back to the page."""
    code = form.get("language")
    target = _safe_next(form.get("next")) or "/"
    response = RedirectResponse(target, status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE, str(code), max_age=365 * 24 * 3600, samesite="lax", httponly=True
        )
    return response
