"""HTTP routes of the contacts service: each builds a command or a query and hands it over."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, status

from access.guard import Caller, check_reach
from access.principal import Principal
from contacts import commands as cmd
from contacts.bootstrap import Contacts
from contacts.models import (
    ContactCard,
    ContactPublic,
    DueList,
    LinkStatus,
)
from eventspine.errors import NotFoundError, NotPermittedError
from eventspine.store.base import CommandContext
from servicekit.http import CommandAccepted, command_context


async def get_contacts(request: Request) -> Contacts:
    """The contacts service wired by the app's lifespan (a coroutine: FastAPI would run a
    plain function in its thread pool, a hand-off per request)."""
    contacts: Contacts = request.app.state.contacts
    return contacts


ContactsDep = Annotated[Contacts, Depends(get_contacts)]


def own_link(principal: Principal, *ends: UUID) -> None:
    """A member acts only on links they are an end of; staff act on any."""
    if principal.role == "member" and principal.member_id not in ends:
        raise NotPermittedError(
            "upper_member_id",
            "you may log contacts only on your own links",
            code="own_links_only",
        )


async def existing_contact(contacts: Contacts, contact_id: UUID) -> ContactPublic:
    """A contact, or 404."""
    contact = await contacts.queries.contact(contact_id)
    if contact is None:
        raise NotFoundError("contact_id", "no such contact", code="contact_not_found")
    return contact


Context = Annotated[CommandContext, Depends(command_context)]
REFUSED: dict[int | str, dict[str, Any]] = {
    404: {"description": "the contact does not exist"},
    409: {
        "description": "wrong state, a concurrent change, or the roster replica is behind (retry)"
    },
    422: {"description": "invalid input; the answer names the field"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "not found"}}

contact_routes = APIRouter(prefix="/contacts", tags=["contacts"])
meeting_routes = APIRouter(prefix="/meetings", tags=["contacts"])
link_routes = APIRouter(prefix="/links", tags=["links"])
member_routes = APIRouter(prefix="/members", tags=["links"])


@contact_routes.post("", status_code=status.HTTP_201_CREATED, responses=REFUSED)
async def log_contact(
    body: cmd.LogContact, contacts: ContactsDep, ctx: Context, principal: Caller
) -> CommandAccepted:
    """Log a contact (meeting, visit, phone or online) on the link active on its date. A
    member logs contacts on their own links only."""
    own_link(principal, body.upper_member_id, body.lower_member_id)
    outcome = await contacts.commands.run(body, ctx)
    return CommandAccepted.of(outcome.events)


@meeting_routes.post("", status_code=status.HTTP_201_CREATED, responses=REFUSED)
async def log_meeting(
    body: cmd.LogMeeting, contacts: ContactsDep, ctx: Context, principal: Caller
) -> CommandAccepted:
    """Log a forum with several contacts: one contact per participant's link, all or nothing.
    A member logs the meetings they held."""
    own_link(principal, body.upper_member_id)
    outcome = await contacts.commands.run(body, ctx)
    return CommandAccepted.of(outcome.events)


@contact_routes.get("/{contact_id}", responses=NOT_FOUND)
async def get_contact(contact_id: UUID, contacts: ContactsDep, principal: Caller) -> ContactPublic:
    """One contact with its current values, its corrections and its retraction, if any."""
    contact = await existing_contact(contacts, contact_id)
    if principal.member_id != contact.lower_member_id:
        await check_reach(principal, contacts.tree, [contact.upper_member_id])
    return contact


@contact_routes.post("/{contact_id}/correction", responses=REFUSED)
async def correct_contact(
    contact_id: UUID,
    body: cmd.CorrectContact,
    contacts: ContactsDep,
    ctx: Context,
    principal: Caller,
) -> CommandAccepted:
    """Correct a contact's date, method or note; the original stays in the history."""
    contact = await existing_contact(contacts, contact_id)
    own_link(principal, contact.upper_member_id, contact.lower_member_id)
    outcome = await contacts.commands.run(body, ctx, contact_id=contact_id)
    return CommandAccepted.of(outcome.events)


@contact_routes.post("/{contact_id}/retraction", responses=REFUSED)
async def retract_contact(
    contact_id: UUID,
    body: cmd.RetractContact,
    contacts: ContactsDep,
    ctx: Context,
    principal: Caller,
) -> CommandAccepted:
    """Withdraw a contact logged in error; it no longer counts."""
    contact = await existing_contact(contacts, contact_id)
    own_link(principal, contact.upper_member_id, contact.lower_member_id)
    outcome = await contacts.commands.run(body, ctx, contact_id=contact_id)
    return CommandAccepted.of(outcome.events)


@link_routes.get("/{link_id}/card", responses=NOT_FOUND)
async def contact_card(link_id: UUID, contacts: ContactsDep, principal: Caller) -> ContactCard:
    """The contact card of a link: every contact, retracted ones included (``retracted``, with
    their ``retraction``) and corrected ones with their ``corrections`` (when, why, each value
    before and after); the counts per year, the last contact and the standing count only
    contacts not retracted. The standing says what the link owes this period (``required``):
    the rule's minimum for a link active the whole period, its prorated share (at least 1) for
    one active from ``active_from`` to ``active_until`` only."""
    card = await contacts.queries.card(link_id, contacts.clock.today())
    if card is None:
        raise NotFoundError("link_id", "no such link", code="link_not_found")
    if principal.member_id != card.link.lower_member_id:
        await check_reach(principal, contacts.tree, [card.link.upper_member_id])
    return card


@member_routes.get("/{member_id}/links")
async def member_links(
    member_id: UUID, contacts: ContactsDep, principal: Caller
) -> list[LinkStatus]:
    """The member's current links (as the upper member) and where each stands this period:
    contacts counted and owed (``required``: prorated, at least 1, for a link that started
    inside the period, from ``active_from``)."""
    await check_reach(principal, contacts.tree, [member_id])
    return await contacts.queries.links_of(member_id, contacts.clock.today())


@member_routes.get("/{member_id}/due")
async def due_list(member_id: UUID, contacts: ContactsDep, principal: Caller) -> DueList:
    """The links that still need a contact before the period ends, the most urgent first."""
    await check_reach(principal, contacts.tree, [member_id])
    return await contacts.queries.due(member_id, contacts.clock.today())


ROUTERS = (contact_routes, meeting_routes, link_routes, member_routes)
