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


async def _page(request: Request, api: Api, user: User, problem: Any = None) -> Response:
    link = await live_link(api, str(user.member_id))
    url = intake_url(request, link["token"]) if link else None
    context = {
        "link": link,
        "url": url,
        "qr": qr_data_uri(url) if url else None,
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


@router.get("/poster.pdf")
async def poster(request: Request, user: MemberDep, api: ApiDep) -> Response:
    """An A4 poster with my QR code, my name and unit, and how to use it."""
    link = await live_link(api, str(user.member_id))
    if link is None:
        return RedirectResponse("/my-link", status_code=303)
    me = await api.get("roster", f"/members/{user.member_id}")
    unit = await api.get("roster", f"/units/{me['unit_id']}")
    url = intake_url(request, link["token"])
    pdf = poster_pdf(
        request.app.state.templates,
        language_of(request),
        name=me.get("name") or "",
        unit=unit.get("name") or "",
        url=url,
        qr=qr_data_uri(url),
    )
    headers = {"Content-Disposition": 'attachment; filename="sanlian-qr-poster.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)
