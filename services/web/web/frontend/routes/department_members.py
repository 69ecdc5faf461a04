"""Who acts for each federation department (交办): a leadership member appoints members by
name and releases them; they then see, take up and resolve what is assigned to it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.frontend.deps import Api, ApiDep, FormDep, MemberDep
from web.frontend.errors import Problem, describe
from web.frontend.i18n import N_
from web.frontend.rendering import render
from web.frontend.routes.common import members_by_id
from web.frontend.services import Refused, ServiceError

router = APIRouter(prefix="/department-members", tags=["frontend"])
DONE = {
    "appointed": N_("The member now acts for the department."),
    "released": N_("The member no longer acts for the department."),
}


async def _page(
    request: Request, api: Api, problem: Problem | None = None, values: Any = None
) -> Response:
    departments = await api.get("feedback", "/departments")
    members = {
        d["code"]: await api.get("feedback", f"/departments/{d['code']}/members")
        for d in departments
    }
    people = await members_by_id(api, [m for ms in members.values() for m in ms])
    context = {
        "departments": departments,
        "members": members,
        "people": people,
        "problem": problem,
        "values": values or {},
        "notice": DONE.get(request.query_params.get("done") or ""),
    }
    return render(request, "department_members.html", context)


@router.get("")
async def department_members(request: Request, user: MemberDep, api: ApiDep) -> Response:
    """Each department's members, and the form to appoint one."""
    return await _page(request, api)


@router.post("")
async def appoint(request: Request, user: MemberDep, api: ApiDep, form: FormDep) -> Response:
    """Appoint the member the name finds (exactly one) to the chosen department."""
    code = form.get("department") or ""
    name = (form.get("name") or "").strip()
    try:
        if not name:
            raise ServiceError(422, fields={"name": Refused("required")})
        found = await api.get("roster", "/members", q=name, limit=5)
        exact = [m for m in found["data"] if m.get("name") == name] or found["data"]
        if len(exact) != 1:
            raise ServiceError(
                422,
                fields={
                    "name": N_("Type the member's full name: it must find exactly one member.")
                },
            )
        await api.post(
            "feedback",
            f"/departments/{code}/members",
            {"member_id": exact[0]["member_id"]},
            key=form.get("key"),
        )
    except ServiceError as error:
        if error.status == 401:
            raise
        return await _page(request, api, describe(error, {"name", "department"}), form)
    return RedirectResponse("/department-members?done=appointed", status_code=303)


@router.post("/{code}/{member_id}/release")
async def release(
    request: Request, code: str, member_id: str, user: MemberDep, api: ApiDep, form: FormDep
) -> Response:
    """Release a member from a department."""
    try:
        await api.post(
            "feedback", f"/departments/{code}/members/{member_id}/release", key=form.get("key")
        )
    except ServiceError as error:
        if error.status == 401:
            raise
        return await _page(request, api, describe(error))
    return RedirectResponse("/department-members?done=released", status_code=303)
