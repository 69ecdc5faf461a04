"""The contacts service's rules: which link a contact belongs to, and a contact's life."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from contacts import events as ev
from contacts.replica import Link
from eventspine.errors import DomainError, NotFoundError, StateConflictError
from eventspine.events import DomainEvent


@dataclass(frozen=True)
class Contact:
    """A logged contact as its stream tells it."""

    contact_id: UUID
    link_id: UUID
    upper_member_id: UUID
    lower_member_id: UUID
    contacted_on: date
    method: ev.Method
    note: str | None
    retracted: bool = False


def evolve_contact(state: Contact | None, event: DomainEvent) -> Contact | None:
    """Apply one event of a contact's stream."""
    if isinstance(event, ev.ContactMade):
        return Contact(
            event.contact_id,
            event.link_id,
            event.upper_member_id,
            event.lower_member_id,
            event.contacted_on,
            event.method,
            event.note,
        )
    if state is None:
        return None
    if isinstance(event, ev.ContactCorrected):
        return replace(state, contacted_on=event.contacted_on, method=event.method, note=event.note)
    if isinstance(event, ev.ContactRetracted):
        return replace(state, retracted=True)
    return state


def not_in_future(day: date, today: date, field_name: str) -> date:
    """Refuse a date after today."""
    if day > today:
        raise DomainError(field_name, f"{day.isoformat()} is in the future")
    return day


def link_for(links: list[Link], day: date, field_name: str = "contacted_on") -> Link:
    """The link period a contact on ``day`` belongs to, or the reason there is none.

    ``links`` are the pair's link periods from the roster replica (none: the caller decides
    whether the replica is behind or the members are not linked at all).
    """
    for link in links:
        if link.active_on(day):
            return link
    first = min(link.assigned_on for link in links)
    if day < first:
        raise DomainError(
            field_name, f"{day.isoformat()} is before the link existed (linked on {first})"
        )
    ended = max((link.unassigned_on for link in links if link.unassigned_on), default=None)
    raise DomainError(field_name, f"{day.isoformat()} is after the link ended (on {ended})")


def require_contact(contact: Contact | None) -> Contact:
    """The contact, or 404/409 when unknown or already retracted."""
    if contact is None:
        raise NotFoundError("contact_id", "no such contact")
    if contact.retracted:
        raise StateConflictError("contact_id", "the contact was retracted")
    return contact
