"""Accounts for federation admins: the list, a new account (for a member, an auditor, an
admin or another city system), disabling one, and a read-only token for a system client,
shown once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.frontend.deps import AdminDep, Api, ApiDep, FormDep, as_list
from web.frontend.errors import Problem, describe
from web.frontend.i18n import N_
from web.frontend.rendering import render
from web.frontend.routes.common import members_by_id
from web.frontend.services import ServiceError

router = APIRouter(prefix="/accounts", tags=["frontend"])
ACCOUNT_FIELDS = frozenset({"username", "password", "role", "member_id", "scopes"})
NOTICES = {"opened": N_("Account opened."), "disabled": N_("Account disabled.")}
SCOPES = ("roster:read", "contacts:read", "feedback:read", "reports:read", "audit:read")


async def _page(
    request: Request,
    api: Api,
    *,
    values: dict[str, Any] | None = None,
    problem: Problem | None = None,
    issued: dict[str, Any] | None = None,
) -> Response:
    found = await api.get("roster", "/accounts", limit=500)
    people = await members_by_id(api, (a["member_id"] for a in found["data"]))
    chosen = (values or {}).get("member_id")
    member = (await members_by_id(api, [chosen])).get(str(chosen)) if chosen else None
    context = {
        "accounts": found,
        "people": people,
        "member": member,
        "scopes": SCOPES,
        "chosen_scopes": as_list((values or {}).get("scopes")),
        "values": values or {"role": "member"},
        "problem": problem,
        "errors": problem.fields if problem else {},
        "issued": issued,
        "notice": NOTICES.get(request.query_params.get("done") or ""),
    }
    return render(request, "accounts.html", context)


@router.get("")
async def accounts(
    request: Request, user: AdminDep, api: ApiDep, member_id: str | None = None
) -> Response:
    """Every account; ``member_id`` fills the form in to open an account for that member."""
    values = {"role": "member", "member_id": member_id} if member_id else None
    return await _page(request, api, values=values)


@router.post("")
async def open_account(request: Request, user: AdminDep, api: ApiDep, form: FormDep) -> Response:
    """Open an account; a refusal is shown beside its field and the form keeps its input."""
    role = form.get("role") or None
    body: dict[str, Any] = {
        "username": (form.get("username") or "").strip(),
        "role": role,
        "member_id": ((form.get("member_id") or "").strip() or None) if role == "member" else None,
    }
    if role == "system":
        body["scopes"] = as_list(form.get("scopes"))
    else:
        body["password"] = form.get("password") or ""
    try:
        await api.post("roster", "/accounts", body)
    except ServiceError as error:
        if error.status == 401:
            raise
        # The password is not sent back into the page.
        kept = {k: v for k, v in form.items() if k != "password"}
        return await _page(request, api, values=kept, problem=describe(error, ACCOUNT_FIELDS))
    return RedirectResponse("/accounts?done=opened", status_code=303)


@router.post("/{account_id}/token")
async def issue_token(
    request: Request, account_id: str, user: AdminDep, api: ApiDep, form: FormDep
) -> Response:
    """A read-only token for a system client; the page shows it once and keeps no copy."""
    try:
        issued = await api.post(
            "roster", f"/accounts/{account_id}/tokens", {"days": form.get("days") or 90}
        )
    except ServiceError as error:
        if error.status == 401:
            raise
        return await _page(request, api, problem=describe(error))
    return await _page(request, api, issued={**issued, "account_id": account_id})


@router.get("/{account_id}/disable")
async def confirm_disable(
    request: Request, account_id: str, user: AdminDep, api: ApiDep
) -> Response:
    """Ask before disabling: it cannot be undone, and the person is signed out everywhere."""
    found = await api.get("roster", "/accounts", limit=500)
    account = next((a for a in found["data"] if a["account_id"] == account_id), None)
    if account is None or account["disabled_at"]:
        return RedirectResponse("/accounts", status_code=303)
    return render(request, "disable.html", {"account": account})


@router.post("/{account_id}/disable")
async def disable_account(
    request: Request, account_id: str, user: AdminDep, api: ApiDep, form: FormDep
) -> Response:
    """Stop an account from signing in; its sessions end on every service. The service
    refuses to disable the last admin, and the page says so."""
    try:
        await api.post("roster", f"/accounts/{account_id}/disabling")
    except ServiceError as error:
        if error.status == 401:
            raise
        return await _page(request, api, problem=describe(error))
    return RedirectResponse("/accounts?done=disabled", status_code=303)
