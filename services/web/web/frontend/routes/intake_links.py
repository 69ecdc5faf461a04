"""A member's intake link (扫码反映): the QR code workers scan, re-issued or revoked here,
and the printable poster (:mod:`web.frontend.posters`)."""

from __future__ import annotations

from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.frontend.deps import Api, ApiDep, FormDep, MemberDep, User
from web.frontend.errors import describe
from web.frontend.i18n import N_
from web.frontend.posters import poster_pdf
from web.frontend.rendering import language_of, render
from web.frontend.services import ServiceError

router = APIRouter(prefix="/my-link", tags=["frontend"])
DONE = {
    "issued": N_("A new QR code was issued; the old one no longer opens."),
    "revoked": N_("The QR code was withdrawn."),
}


def intake_url(request: Request, token: str) -> str:
    """The address a link's QR code carries: the configured public address, else this
    server's."""
    base = request.app.state.settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/v/{token}"


def qr_data_uri(url: str) -> str:
    """The QR code of ``url`` as an SVG data URI (an ``img`` the pages and posters show)."""
    return str(segno.make(url, error="m").svg_data_uri(scale=8, border=2))


async def live_link(api: Api, owner_id: str) -> dict[str, Any] | None:
    """The live link of a member or a unit, or None."""
    try:
        found: dict[str, Any] = await api.get("feedback", f"/intake-links/of/{owner_id}")
    except ServiceError as error:
        if error.status == 404:
            return None
        raise
    return found


async def _unit_links(request: Request, api: Api, user: User) -> list[dict[str, Any]]:
    """For a committee or leadership member: the enterprise unions of the representatives
    they keep in contact with, each with its live link (or None) and who would receive."""
    if user.tier not in ("committee", "leader"):
        return []
    lower = await api.get("roster", f"/members/{user.member_id}/lower-members", limit=500)
    units: dict[str, dict[str, Any]] = {}
    for m in lower["data"]:
        if m.get("tier") in ("representative", "committee") and m.get("status") == "active":
            units.setdefault(m["unit_id"], {"unit_id": m["unit_id"], "holders": []})
            units[m["unit_id"]]["holders"].append(m)
    for unit in units.values():
        found = await api.get("roster", f"/units/{unit['unit_id']}")
        unit["name"] = found.get("name") or ""
        unit["kind"] = found.get("kind")
        unit["link"] = await live_link(api, unit["unit_id"])
        unit["url"] = intake_url(request, unit["link"]["token"]) if unit["link"] else None
    return [u for u in units.values() if u["kind"] == "enterprise_union"]


async def _page(request: Request, api: Api, user: User, problem: Any = None) -> Response:
    link = await live_link(api, str(user.member_id))
    url = intake_url(request, link["token"]) if link else None
    context = {
        "link": link,
        "url": url,
        "qr": qr_data_uri(url) if url else None,
        "units": await _unit_links(request, api, user),
        "problem": problem,
        "notice": DONE.get(request.query_params.get("done") or ""),
    }
    return render(request, "my_link.html", context)


@router.get("")
async def my_link(request: Request, user: MemberDep, api: ApiDep) -> Response:
    """My QR code for workers: its address, the code itself, the poster, re-issue, revoke."""
    return await _page(request, api, user)


@router.post("/issue")
async def issue(request: Request, user: MemberDep, api: ApiDep, form: FormDep) -> Response:
    """Issue a new link (the live one, if any, stops opening)."""
    try:
        await api.post(
            "feedback", "/intake-links", {"owner": "representative"}, key=form.get("key")
        )
    except ServiceError as error:
        if error.status == 401:
            raise
        return await _page(request, api, user, describe(error))
    return RedirectResponse("/my-link?done=issued", status_code=303)


@router.post("/unit")
async def issue_unit(request: Request, user: MemberDep, api: ApiDep, form: FormDep) -> Response:
    """Issue an enterprise union's link, received by the member chosen (its live one stops)."""
    body = {
        "owner": "unit",
        "unit_id": form.get("unit_id") or None,
        "holder_id": form.get("holder_id") or None,
    }
    try:
        await api.post("feedback", "/intake-links", body, key=form.get("key"))
    except ServiceError as error:
        if error.status == 401:
            raise
        return await _page(request, api, user, describe(error))
    return RedirectResponse("/my-link?done=issued", status_code=303)


@router.post("/revoke")
async def revoke(request: Request, user: MemberDep, api: ApiDep, form: FormDep) -> Response:
    """Withdraw my link: a lost or misused poster opens nothing any more."""
    link = await live_link(api, str(user.member_id))
    if link is not None:
        try:
            await api.post(
                "feedback", f"/intake-links/{link['link_id']}/revocation", key=form.get("key")
            )
        except ServiceError as error:
            if error.status == 401:
                raise
            return await _page(request, api, user, describe(error))
    return RedirectResponse("/my-link?done=revoked", status_code=303)


def _pdf(request: Request, link: dict[str, Any], name: str, unit: str) -> Response:
    url = intake_url(request, link["token"])
    pdf = poster_pdf(
        request.app.state.templates,
        language_of(request),
        name=name,
        unit=unit,
        url=url,
        qr=qr_data_uri(url),
    )
    headers = {"Content-Disposition": 'attachment; filename="sanlian-qr-poster.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/poster.pdf")
async def poster(request: Request, user: MemberDep, api: ApiDep) -> Response:
    """An A4 poster with my QR code, my name and unit, and how to use it."""
    link = await live_link(api, str(user.member_id))
    if link is None:
        return RedirectResponse("/my-link", status_code=303)
    me = await api.get("roster", f"/members/{user.member_id}")
    unit = await api.get("roster", f"/units/{me['unit_id']}")
    return _pdf(request, link, me.get("name") or "", unit.get("name") or "")


@router.get("/unit/{unit_id}/poster.pdf")
async def unit_poster(request: Request, unit_id: str, user: MemberDep, api: ApiDep) -> Response:
    """An enterprise union's A4 poster: its QR code, the union's name and who receives."""
    link = await live_link(api, unit_id)
    if link is None:
        return RedirectResponse("/my-link", status_code=303)
    holder = await api.get("roster", f"/members/{link['holder_id']}")
    unit = await api.get("roster", f"/units/{unit_id}")
    return _pdf(request, link, holder.get("name") or "", unit.get("name") or "")
