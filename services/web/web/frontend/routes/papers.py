"""Papers as PDF: a member's 联系卡 (the people they contact, the rule, the contacts made this
period, blank rows for the next), the 工作手册 with the member's own links appended, and the
handbook's editing page. The monthly 通报 is :mod:`web.frontend.routes.bulletin`."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markdown_it import MarkdownIt
from markupsafe import Markup

from web.frontend.deps import AdminDep, Api, ApiDep, FormDep, StaffDep, UserDep, federation_clock
from web.frontend.errors import describe
from web.frontend.i18n import N_
from web.frontend.owing import contact_rule
from web.frontend.papers import html_to_pdf, pdf_response
from web.frontend.rendering import language_of, render, render_text
from web.frontend.routes.common import unit_names
from web.frontend.services import ServiceError

router = APIRouter(tags=["frontend"])
BLANK_ROWS = 3
"""Empty rows under each person on a 联系卡, for the contacts still to come."""
UPPER_TIERS = ("leader", "committee", "representative")


def markdown(text: str) -> Markup:
    """The handbook's Markdown as HTML; HTML typed into it is shown as text, never run. Its
    headings start at ``h2``: the page's or paper's own title is its one ``h1``."""
    parser = MarkdownIt("commonmark", {"html": False})
    tokens = parser.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + 1)}"
    # markdown-it escapes the text (html is off): what it renders is safe to insert as is.
    return Markup(parser.renderer.render(tokens, parser.options, {}))


def _in_window(day: str, standing: dict[str, Any]) -> bool:
    start, end = standing.get("active_from"), standing.get("active_until")
    return bool(start and end and start <= day <= end)


async def card_context(api: Api, member_id: str, today: date) -> dict[str, Any]:
    """What a member's 联系卡 shows: each person they contact with unit and phone, the
    contacts made on the link this period (withdrawn ones left out), and what is still owed."""
    member = await api.get("roster", f"/members/{member_id}")
    lower = await api.get("roster", f"/members/{member_id}/lower-members", limit=500)
    links = (
        await api.get("contacts", f"/members/{member_id}/links")
        if member["tier"] in UPPER_TIERS
        else []
    )
    by_lower = {str(link["link"]["lower_member_id"]): link for link in links}
    cards = await asyncio.gather(
        *(api.get("contacts", f"/links/{link['link']['link_id']}/card") for link in links)
    )
    card_of = {str(card["link"]["lower_member_id"]): card for card in cards}
    people = []
    for person in lower["data"]:
        key = str(person["member_id"])
        card = card_of.get(key)
        standing = (by_lower.get(key) or {}).get("standing")
        made = []
        if card and standing:
            made = [
                c
                for c in sorted(card["contacts"], key=lambda c: c["contacted_on"])
                if not c["retracted"] and _in_window(str(c["contacted_on"]), standing)
            ]
        people.append({"member": person, "standing": standing, "contacts": made})
    period = next((p["standing"]["period"] for p in people if p["standing"]), str(today.year))
    return {
        "member": member,
        "people": people,
        "units": await unit_names(api),
        "period": period,
        "rule": contact_rule(),
        "blank_rows": BLANK_ROWS,
        "printed_on": today,
    }


def _file_day(request: Request) -> date:
    return federation_clock(request).today()


@router.get("/papers/contact-card/{member_id}.pdf")
async def contact_card_paper(
    request: Request, member_id: str, user: UserDep, api: ApiDep
) -> Response:
    """A member's 联系卡 as an A4 PDF (staff for anyone; a member for those the roster lets
    them read, themselves included)."""
    today = _file_day(request)
    context = await card_context(api, member_id, today)
    pdf = await html_to_pdf(render_text(request, "papers/card.html", context))
    lang = language_of(request)
    name = context["member"].get("name") or member_id[:8]
    title = lang.gettext(N_("Contact card"))
    return pdf_response(pdf, f"{title}-{name}-{today.isoformat()}.pdf", f"contact-card-{today}.pdf")


@router.get("/papers/handbook/{member_id}.pdf")
async def handbook_paper(request: Request, member_id: str, user: UserDep, api: ApiDep) -> Response:
    """The 工作手册 in force, printed for one member: the handbook, then their own links."""
    today = _file_day(request)
    handbook = await api.get("roster", "/handbook")
    context = await card_context(api, member_id, today)
    context.update({"handbook": handbook, "handbook_html": markdown(handbook["text"])})
    pdf = await html_to_pdf(render_text(request, "papers/handbook.html", context))
    lang = language_of(request)
    name = context["member"].get("name") or member_id[:8]
    title = lang.gettext(N_("Handbook"))
    return pdf_response(pdf, f"{title}-{name}-{today.isoformat()}.pdf", f"handbook-{today}.pdf")


@router.get("/handbook")
async def handbook_page(request: Request, user: StaffDep, api: ApiDep) -> Response:
    """The handbook in force, and for admins the form that publishes its next version."""
    handbook = await api.get("roster", "/handbook")
    values = {"text": handbook["text"], "expected_version": handbook["version"]}
    context = {"handbook": handbook, "html": markdown(handbook["text"]), "values": values}
    if request.query_params.get("published"):
        context["notice"] = N_("The new version of the handbook is published.")
    return render(request, "handbook.html", context)


@router.post("/handbook")
async def publish_handbook(
    request: Request, user: AdminDep, api: ApiDep, form: FormDep
) -> Response:
    """Publish the edited text as the handbook's next version."""
    body = {
        "text": form.get("text") or "",
        "note": (form.get("note") or "").strip() or None,
        "expected_version": int(form.get("expected_version") or 0),
    }
    try:
        await api.put("roster", "/handbook", body, key=form.get("key"))
    except ServiceError as error:
        if error.status == 401:
            raise
        handbook = await api.get("roster", "/handbook")
        context = {
            "handbook": handbook,
            "html": markdown(handbook["text"]),
            "values": form,
            # A stale version is the form's whole problem: it goes on top, not beside a field.
            "problem": describe(error, {"text", "note"}),
        }
        return render(request, "handbook.html", context)
    return RedirectResponse("/handbook?published=1", status_code=303)
