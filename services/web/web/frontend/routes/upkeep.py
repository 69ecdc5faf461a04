"""Roster upkeep for federation admins: register a member, correct their details, change
their tier, move them to another unit, record a departure, forget them (after a confirmation
that says what it destroys); register, rename and close union organisations.

Each form posts one of the roster's ordinary commands; a refusal is shown beside its field,
with the form as it was typed.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from roster import codes
from web.frontend.deps import AdminDep, Api, ApiDep, FormDep
from web.frontend.errors import describe
from web.frontend.i18n import N_
from web.frontend.rendering import render
from web.frontend.routes.common import flatten_units
from web.frontend.routes.roster import member_page_for
from web.frontend.services import ServiceError

router = APIRouter(prefix="/directory", tags=["frontend"])
MEMBER_FIELDS = frozenset(
    {"unit_id", "tier", "name", "phone", "wechat_id", "external_number", "registered_on"}
)
UNIT_FIELDS = frozenset({"name", "kind", "parent_unit_id", "code", "reason"})
REFUSALS = (
    N_("a union organisation has this code already"),
    N_("a unit with a code has the id the code gives: leave out unit_id"),
    N_("this number is already used by a member of the unit"),
    N_("the member is already in this organisation"),
    N_("the member's external number is already used in that organisation"),
    N_("the union organisation already has this name"),
)
"""The roster's refusals of these forms in words of its own: the catalogue translates them
where the form shows them beside their field."""
# Each form of the member page: the roster's route, its method, the form's fields.
MEMBER_FORMS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "details": ("PUT", "details", ("name", "phone", "wechat_id")),
    "tier": ("POST", "tier", ("tier", "changed_on")),
    "move": ("POST", "move", ("unit_id", "moved_on")),
    "departure": ("POST", "departure", ("departed_on", "reason")),
}


def _clean(form: dict[str, Any], names: tuple[str, ...] | frozenset[str]) -> dict[str, Any]:
    """The form's fields as a command body: trimmed, an empty field left out."""
    body = {}
    for name in names:
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            body[name] = value.strip()
    return body


@router.get("/members/new")
async def new_member(request: Request, user: AdminDep, api: ApiDep) -> Response:
    """The form that enters a person in the contact database."""
    return await _new_member_page(request, api, {"unit_id": request.query_params.get("unit_id")})


async def _new_member_page(
    request: Request, api: Api, values: dict[str, Any], problem: Any = None
) -> Response:
    units = [u for u in flatten_units(await api.get("roster", "/units")) if not u["closed"]]
    values = {"member_id": str(uuid.uuid4()), **{k: v for k, v in values.items() if v}}
    context = {"units": units, "values": values, "problem": problem}
    return render(request, "member_new.html", context)


@router.post("/members/new")
async def register_member(request: Request, user: AdminDep, api: ApiDep, form: FormDep) -> Response:
    """Register the member (RegisterMember), then show their page."""
    body = _clean(form, MEMBER_FIELDS)
    # The id comes with the form: sent twice, it is one member (the second is refused). In a
    # unit with a code it is the id an import file gives the unit's code and this number, so
    # a file can name the member (and importing them again changes nothing).
    member_id = str(form.get("member_id") or uuid.uuid4())
    units = {u["unit_id"]: u for u in flatten_units(await api.get("roster", "/units"))}
    code = (units.get(body.get("unit_id", "")) or {}).get("code")
    if code and body.get("external_number"):
        member_id = str(codes.member_id(code, body["external_number"]))
    try:
        await api.post("roster", "/members", {**body, "member_id": member_id}, key=form.get("key"))
    except ServiceError as error:
        if error.status == 401:
            raise
        return await _new_member_page(request, api, form, describe(error, MEMBER_FIELDS))
    return RedirectResponse(f"/directory/members/{member_id}?done=registered", status_code=303)


async def _change(
    request: Request, api: Api, member_id: str, what: str, form: dict[str, Any]
) -> Response:
    """One of the member page's forms, sent as the roster's command."""
    method, path, names = MEMBER_FORMS[what]
    body = _clean(form, names)
    try:
        if method == "PUT":
            await api.put("roster", f"/members/{member_id}/{path}", body, key=form.get("key"))
        else:
            await api.post("roster", f"/members/{member_id}/{path}", body, key=form.get("key"))
    except ServiceError as error:
        if error.status == 401:
            raise
        problem = describe(error, frozenset(names))
        return await member_page_for(
            request, api, member_id, problem=problem, values=form, open_form=what
        )
    return RedirectResponse(f"/directory/members/{member_id}?done={what}", status_code=303)


@router.post("/members/{member_id}/details")
async def change_details(
    request: Request, member_id: str, user: AdminDep, api: ApiDep, form: FormDep
) -> Response:
    """Correct the member's name, phone or WeChat id (ChangeDetails)."""
    return await _change(request, api, member_id, "details", form)


@router.post("/members/{member_id}/tier")
async def change_tier(
    request: Request, member_id: str, user: AdminDep, api: ApiDep, form: FormDep
) -> Response:
    """Change the member's tier (ChangeTier): every link of theirs ends."""
    return await _change(request, api, member_id, "tier", form)


@router.post("/members/{member_id}/move")
async def move_member(
    request: Request, member_id: str, user: AdminDep, api: ApiDep, form: FormDep
) -> Response:
    """Move the member to another union organisation (MoveMember): their links stay."""
    return await _change(request, api, member_id, "move", form)


@router.post("/members/{member_id}/departure")
async def record_departure(
    request: Request, member_id: str, user: AdminDep, api: ApiDep, form: FormDep
) -> Response:
    """Record that the member left (DepartMember): their links end."""
    return await _change(request, api, member_id, "departure", form)


@router.get("/members/{member_id}/forget")
async def forget_form(request: Request, member_id: str, user: AdminDep, api: ApiDep) -> Response:
    """Ask first: forgetting destroys the member's key, for good."""
    member = await api.get("roster", f"/members/{member_id}")
    return render(request, "forget.html", {"member": member})


@router.post("/members/{member_id}/forget")
async def forget(
    request: Request, member_id: str, user: AdminDep, api: ApiDep, form: FormDep
) -> Response:
    """Forget the member (ForgetMember): their personal data becomes unreadable everywhere."""
    try:
        await api.post("roster", f"/members/{member_id}/forget", None, key=form.get("key"))
    except ServiceError as error:
        if error.status == 401:
            raise
        member = await api.get("roster", f"/members/{member_id}")
        return render(request, "forget.html", {"member": member, "problem": describe(error)})
    return RedirectResponse(f"/directory/members/{member_id}?done=forget", status_code=303)


async def _units_page(
    request: Request,
    api: Api,
    *,
    open_form: str | None = None,
    problem: Any = None,
    values: dict[str, Any] | None = None,
) -> Response:
    units = flatten_units(await api.get("roster", "/units"))
    done = {
        "registered": N_("Union organisation registered."),
        "renamed": N_("Renamed."),
        "closed": N_("Organisation closed."),
    }
    context = {
        "units": units,
        "open_form": open_form,
        "problem": problem,
        "values": values or {},
        "notice": done.get(request.query_params.get("done") or ""),
    }
    return render(request, "units.html", context)


@router.get("/units")
async def units_page(request: Request, user: AdminDep, api: ApiDep) -> Response:
    """The union organisations with their codes; register, rename and close them."""
    return await _units_page(request, api)


@router.post("/units")
async def register_unit(request: Request, user: AdminDep, api: ApiDep, form: FormDep) -> Response:
    """Register a union organisation (RegisterUnit), with a code when given."""
    body = _clean(form, frozenset({"name", "kind", "parent_unit_id", "code"}))
    try:
        await api.post("roster", "/units", body, key=form.get("key"))
    except ServiceError as error:
        if error.status == 401:
            raise
        problem = describe(error, UNIT_FIELDS)
        return await _units_page(request, api, open_form="new", problem=problem, values=form)
    return RedirectResponse("/directory/units?done=registered", status_code=303)


@router.post("/units/{unit_id}/{what}")
async def change_unit(
    request: Request, unit_id: str, what: str, user: AdminDep, api: ApiDep, form: FormDep
) -> Response:
    """Rename (RenameUnit) or close (CloseUnit) a union organisation."""
    try:
        if what == "name":
            body = _clean(form, ("name",))
            await api.put("roster", f"/units/{unit_id}/name", body, key=form.get("key"))
        elif what == "closure":
            body = _clean(form, ("reason",))
            await api.post("roster", f"/units/{unit_id}/closure", body, key=form.get("key"))
        else:
            return Response(status_code=404)
    except ServiceError as error:
        if error.status == 401:
            raise
        problem = describe(error, UNIT_FIELDS)
        return await _units_page(
            request, api, open_form=f"{what}-{unit_id}", problem=problem, values=form
        )
    done = "renamed" if what == "name" else "closed"
    return RedirectResponse(f"/directory/units?done={done}#unit-{unit_id}", status_code=303)
