"""HTTP routes of the contacts service: each builds a command or a query and hands it over."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request, status

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
from eventspine.store.base import CommandContext
from servicekit.http import CommandAccepted, command_context, run_command, with_stable_ids


def get_contacts(request: Request) -> Contacts:
    """The contacts service wired by the app's lifespan."""
    contacts: Contacts = request.app.state.contacts
    return contacts


ContactsDep = Annotated[Contacts, Depends(get_contacts)]


def own_link(principal: Principal, *ends: UUID) -> None:
    """A member acts only on links they are an end of; staff act on any."""
    if principal.role == "member" and principal.member_id not in ends:
        raise HTTPException(403, "you may log contacts only on your own links")


async def existing_contact(service: Contacts, contact_id: UUID) -> ContactPublic:
    """A contact, or 404."""
    contact = await service.queries.contact(contact_id)
    if contact is None:
        raise HTTPException(404, "no such contact")
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

contacts = APIRouter(prefix="/contacts", tags=["contacts"])
meetings = APIRouter(prefix="/meetings", tags=["contacts"])
links = APIRouter(prefix="/links", tags=["links"])
members = APIRouter(prefix="/members", tags=["links"])


@contacts.post("", status_code=status.HTTP_201_CREATED, responses=REFUSED)
async def log_contact(
    body: cmd.LogContact, service: ContactsDep, ctx: Context, principal: Caller
) -> CommandAccepted:
    """Log a contact (meeting, visit, phone or online) on the link active on its date. A
    member logs contacts on their own links only."""
    own_link(principal, body.upper_member_id, body.lower_member_id)
    body = with_stable_ids(body, ctx, "contact_id")
    return await run_command(
        service.store, ctx, lambda: service.service.log_contact(body, ctx), service.catch_up
    )


@meetings.post("", status_code=status.HTTP_201_CREATED, responses=REFUSED)
async def log_meeting(
    body: cmd.LogMeeting, service: ContactsDep, ctx: Context, principal: Caller
) -> CommandAccepted:
    """Log a forum with several contacts: one contact per participant's link, all or nothing.
    A member logs the meetings they held."""
    own_link(principal, body.upper_member_id)
    body = with_stable_ids(body, ctx, "meeting_id")
    return await run_command(
        service.store, ctx, lambda: service.service.log_meeting(body, ctx), service.catch_up
    )


@contacts.get("/{contact_id}", responses=NOT_FOUND)
async def get_contact(contact_id: UUID, service: ContactsDep, principal: Caller) -> ContactPublic:
    """One contact with its current values."""
    contact = await existing_contact(service, contact_id)
    if principal.member_id != contact.lower_member_id:
        await check_reach(principal, service.tree, [contact.upper_member_id])
    return contact


@contacts.post("/{contact_id}/correction", responses=REFUSED)
async def correct_contact(
    contact_id: UUID,
    body: cmd.CorrectContact,
    service: ContactsDep,
    ctx: Context,
    principal: Caller,
) -> CommandAccepted:
    """Correct a contact's date, method or note; the original stays in the history."""
    contact = await existing_contact(service, contact_id)
    own_link(principal, contact.upper_member_id, contact.lower_member_id)
    return await run_command(
        service.store, ctx, lambda: service.service.correct(contact_id, body, ctx), service.catch_up
    )


@contacts.post("/{contact_id}/retraction", responses=REFUSED)
async def retract_contact(
    contact_id: UUID,
    body: cmd.RetractContact,
    service: ContactsDep,
    ctx: Context,
    principal: Caller,
) -> CommandAccepted:
    """Withdraw a contact logged in error; it no longer counts."""
    contact = await existing_contact(service, contact_id)
    own_link(principal, contact.upper_member_id, contact.lower_member_id)
    return await run_command(
        service.store, ctx, lambda: service.service.retract(contact_id, body, ctx), service.catch_up
    )


@links.get("/{link_id}/card", responses=NOT_FOUND)
async def contact_card(link_id: UUID, service: ContactsDep, principal: Caller) -> ContactCard:
    """The contact card of a link: every contact, counts per year, last contact, next due."""
    card = await service.queries.card(link_id, service.service.today())
    if card is None:
        raise HTTPException(404, "no such link")
    if principal.member_id != card.link.lower_member_id:
        await check_reach(principal, service.tree, [card.link.upper_member_id])
    return card


@members.get("/{member_id}/links")
async def member_links(
    member_id: UUID, service: ContactsDep, principal: Caller
) -> list[LinkStatus]:
    """The member's current links (as the upper member) and where each stands this period."""
    await check_reach(principal, service.tree, [member_id])
    return await service.queries.links_of(member_id, service.service.today())


@members.get("/{member_id}/due")
async def due_list(member_id: UUID, service: ContactsDep, principal: Caller) -> DueList:
    """The links that still need a contact before the period ends, the most urgent first."""
    await check_reach(principal, service.tree, [member_id])
    return await service.queries.due(member_id, service.service.today())


ROUTERS = (contacts, meetings, links, members)
