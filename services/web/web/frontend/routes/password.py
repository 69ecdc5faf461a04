"""Changing your own password (any signed-in person who signs in with one)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.frontend.deps import ApiDep, FormDep, UserDep
from web.frontend.errors import Problem, describe
from web.frontend.i18n import N_
from web.frontend.rendering import render
from web.frontend.services import ServiceError

router = APIRouter(prefix="/password", tags=["frontend"])
FIELDS = frozenset({"current_password", "password"})


def _page(request: Request, problem: Problem | None = None) -> Response:
    # Passwords are never written back into the page.
    errors = problem.fields if problem else {}
    return render(request, "password.html", {"problem": problem, "errors": errors})


@router.get("")
async def password_form(request: Request, user: UserDep) -> Response:
    """The form: your present password, the new one twice."""
    return _page(request)


@router.post("")
async def change_password(request: Request, user: UserDep, api: ApiDep, form: FormDep) -> Response:
    """Set a new password; every session of the account ends, so sign in again with it."""
    current, new, again = (form.get(k) or "" for k in ("current_password", "password", "again"))
    problem = Problem()
    for name, value in (("current_password", current), ("password", new), ("again", again)):
        if not value:
            problem.fields[name] = N_("Please fill this in.")
    if new and again and new != again:
        problem.fields["again"] = N_("The two new passwords differ.")
    if problem.fields:
        return _page(request, problem)
    try:
        await api.post(
            "roster",
            f"/accounts/{user.account_id}/password",
            {"password": new, "current_password": current},
        )
    except ServiceError as error:
        if error.status == 401:
            raise
        return _page(request, describe(error, FIELDS))
    # The service revoked every token of the account, this session's included.
    request.scope["session"].clear()
    return RedirectResponse("/login?changed=1", status_code=303)
