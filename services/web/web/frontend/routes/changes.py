"""Mistakes undone: a contact just logged undone in one tap, and the contact card (联系卡),
where the upper member corrects or withdraws a contact later, with a reason.

The contacts service keeps the rules (a retracted contact is neither corrected nor withdrawn
again; a new date stays on the same link and not in the future): these routes hand it the
change and show its refusal beside the field.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.frontend.deps import Api, ApiDep, FormDep, MemberDep, User, UserDep
from web.frontend.errors import Problem, describe
from web.frontend.i18n import N_
from web.frontend.outbox import answer, retryable, wants_json
from web.frontend.rendering import language_of, render
from web.frontend.routes.contacts import (
    METHODS,
    contacts_page,
    live_offers,
    my_links,
    row_context,
    rows_html,
    today,
)
from web.frontend.services import ServiceError

router = APIRouter(prefix="/my-contacts", tags=["frontend"])
UNDO_REASON = N_("Logged by mistake, undone at once.")
"""The reason an undo records (in the user's language): the card shows it."""
CORRECTION_FIELDS = frozenset({"contacted_on", "method", "note", "reason"})


@router.post("/undo")
async def undo_contact(request: Request, user: MemberDep, api: ApiDep, form: FormDep) -> Response:
    """Withdraw the contact just logged, in one tap, for ``UNDO_SECONDS`` after it was logged
    in this session; later, the contact card withdraws it, with a reason."""
    session = request.scope["session"]
    contact_id = str(form.get("contact_id", ""))
    offer = live_offers(session).get(contact_id)
    lower = offer[0] if offer else str(form.get("lower_member_id", ""))
    problem: Problem | None = None
    retry = False
    if offer is None:
        problem = Problem(
            message=N_("It is too late to undo it here: withdraw it from its contact card.")
        )
    else:
        reason = language_of(request).gettext(UNDO_REASON)
        try:
            await api.post(
                "contacts",
                f"/contacts/{contact_id}/retraction",
                {"reason": reason},
                key=form.get("key"),
            )
        except ServiceError as error:
            if error.status == 401:
                raise
            problem, retry = describe(error), retryable(error)
    if problem is None or not retry:
        session["undo"] = {k: v for k, v in live_offers(session).items() if k != contact_id}
    if wants_json(request):
        rows = await my_links(api, user)
        notices = {} if problem else {lower: N_("Undone: it no longer counts.")}
        html = rows_html(request, rows, [lower], row_context(request, notices=notices))
        return answer(request, problem=problem, retry=retry, rows=html)
    if problem is None:
        return RedirectResponse(f"/my-contacts?undone={lower}#link-{lower}", status_code=303)
    return await contacts_page(request, user, api, row_context(request, problem=problem))


async def card_page(
    request: Request,
    link_id: UUID,
    user: User,
    api: Api,
    *,
    open_contact: str | None = None,
    problem: Problem | None = None,
    values: dict[str, Any] | None = None,
    notice: str | None = None,
) -> Response:
    """The contact card, with a refusal beside the form of ``open_contact`` when there is one."""
    card = await api.get("contacts", f"/links/{link_id}/card")
    lower = await api.get("roster", f"/members/{card['link']['lower_member_id']}")
    context = {
        "card": card,
        "lower": lower,
        # The upper member logged the contacts on the link: theirs to correct or withdraw.
        "may_change": user.member_id == card["link"]["upper_member_id"],
        "methods": METHODS,
        "today": today(request),
        "open_contact": open_contact,
        "problem": problem,
        "values": values or {},
        "notice": notice,
    }
    return render(request, "card.html", context)


@router.get("/card/{link_id}")
async def contact_card(request: Request, link_id: UUID, user: UserDep, api: ApiDep) -> Response:
    """The contact card (联系卡) of one link: every contact on it, each correctable and
    withdrawable (with a reason) by the member who logged it. Staff open it from a member's
    page; the contacts service decides who may read it."""
    changed = request.query_params.get("changed")
    notice = {"corrected": N_("Contact corrected."), "withdrawn": N_("Contact withdrawn.")}
    return await card_page(request, link_id, user, api, notice=notice.get(changed or ""))


async def change_contact(
    request: Request,
    link_id: UUID,
    contact_id: UUID,
    user: User,
    api: Api,
    form: dict[str, Any],
    *,
    what: str,
) -> Response:
    """Send a correction (``what="correction"``) or a retraction of one contact on the card."""
    reason = form.get("reason") or ""
    body: dict[str, Any] = {"reason": reason}
    problem: Problem | None = None
    retry = False
    if what == "correction":
        current = await api.get("contacts", f"/contacts/{contact_id}")
        # Only what differs: an unchanged value sent along would read as a change on the card.
        for name in ("contacted_on", "method", "note"):
            value = (form.get(name) or "").strip() or None
            if value is not None and value != (current.get(name) or None):
                body[name] = value
        if len(body) == 1:
            problem = Problem(
                fields={"contacted_on": N_("Change the date, the way or the note first.")},
                message=N_("Nothing was changed."),
            )
    if problem is None:
        try:
            await api.post("contacts", f"/contacts/{contact_id}/{what}", body, key=form.get("key"))
        except ServiceError as error:
            if error.status == 401:
                raise
            problem, retry = describe(error, CORRECTION_FIELDS), retryable(error)
    done = "corrected" if what == "correction" else "withdrawn"
    target = f"/my-contacts/card/{link_id}?changed={done}#contact-{contact_id}"
    if wants_json(request):
        return answer(request, problem=problem, retry=retry, next=None if problem else target)
    if problem is None:
        return RedirectResponse(target, status_code=303)
    values = {**form, "form": what}
    return await card_page(
        request, link_id, user, api, open_contact=str(contact_id), problem=problem, values=values
    )


@router.post("/card/{link_id}/contacts/{contact_id}/correction")
async def correct_contact(
    request: Request, link_id: UUID, contact_id: UUID, user: MemberDep, api: ApiDep, form: FormDep
) -> Response:
    """Correct a contact's date, way or note, with a reason; the card keeps the original."""
    return await change_contact(request, link_id, contact_id, user, api, form, what="correction")


@router.post("/card/{link_id}/contacts/{contact_id}/retraction")
async def withdraw_contact(
    request: Request, link_id: UUID, contact_id: UUID, user: MemberDep, api: ApiDep, form: FormDep
) -> Response:
    """Withdraw a contact logged in error, with a reason: it stays on the card, counted nowhere."""
    return await change_contact(request, link_id, contact_id, user, api, form, what="retraction")
