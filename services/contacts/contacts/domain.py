"""The contacts service's rules: which link a contact belongs to, and a contact's life.

No I/O here. ``evolve_contact`` folds a contact's stream into its state; the ``decide_*``
functions check a command against that state, the pair's links from the roster replica and
the federation's ``today`` (a value: no clock is read here), and return the events to append
or raise a ``DomainError`` naming the field and the reason.

The events a decision returns carry no new note: the handler seals the command's note with the
lower member's key only once the decision stands, so a refused command creates no key.

Lifecycle: made (alone, or one per participant of a meeting) -> corrected (any number of
times) -> retracted (final: a retracted contact is neither corrected nor retracted again).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from contacts import commands as cmd
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
        raise StateConflictError(
            field_name,
            f"{day.isoformat()} is in the future",
            code="date_in_future",
            date=day.isoformat(),
            today=today.isoformat(),
        )
    return day


def covers(links: Sequence[Link], day: date) -> bool:
    """Whether one of ``links`` is active on ``day``. When none is, the replica may be behind
    the roster (a link just made), so the handler catches it up before deciding."""
    return any(link.active_on(day) for link in links)


def link_for(
    links: Sequence[Link],
    day: date,
    field_name: str = "contacted_on",
    *,
    replica_level: bool = False,
    member_field: str = "lower_member_id",
) -> Link:
    """The link period a contact on ``day`` belongs to, or the reason there is none.

    ``links`` are the pair's link periods from the roster replica. The replica only knows what
    the roster has published: when it shows no link for the pair and ``replica_level`` (it has
    applied everything the roster published), the pair is not linked (409 ``pair_not_linked``);
    while it is behind, the link may be too new to have arrived, and the answer is a 409
    ``link_not_known_yet`` that a retry will settle. Both name ``member_field``. A date outside
    the known links' active days is a 409 (``before_link``, ``after_link``) naming
    ``field_name``.
    """
    if not links and replica_level:
        raise StateConflictError(
            member_field, "is not linked to the upper member", code="pair_not_linked"
        )
    if not links:
        raise StateConflictError(
            member_field,
            "is not one of the upper member's contacts as far as the roster has published; "
            "if the link was just made, retry shortly",
            code="link_not_known_yet",
            headers={"Retry-After": "1"},
        )
    for link in links:
        if link.active_on(day):
            return link
    first = min(link.assigned_on for link in links)
    if day < first:
        raise StateConflictError(
            field_name,
            f"{day.isoformat()} is before the link existed (linked on {first})",
            code="before_link",
            date=day.isoformat(),
            linked_on=first.isoformat(),
        )
    ended = max((link.unassigned_on for link in links if link.unassigned_on), default=None)
    raise StateConflictError(
        field_name,
        f"{day.isoformat()} is after the link ended (on {ended})",
        code="after_link",
        date=day.isoformat(),
        ended_on=ended.isoformat() if ended else None,
    )


def require_contact(contact: Contact | None) -> Contact:
    """The contact, or 404/409 when unknown or already retracted."""
    if contact is None:
        raise NotFoundError("contact_id", "no such contact", code="contact_not_found")
    if contact.retracted:
        raise StateConflictError(
            "contact_id", "the contact was retracted", code="contact_retracted"
        )
    return contact


def decide_log_contact(
    command: cmd.LogContact,
    existing: Contact | None,
    links: Sequence[Link],
    today: date,
    *,
    replica_level: bool = False,
) -> ev.ContactMade:
    """A contact on the link of the pair that was active on its date (note not yet sealed);
    ``replica_level``: the roster replica has applied all the roster published (see
    :func:`link_for`)."""
    day = not_in_future(command.contacted_on, today, "contacted_on")
    if existing is not None:
        raise StateConflictError(
            "contact_id", "a contact with this id exists", code="contact_exists"
        )
    link = link_for(links, day, "contacted_on", replica_level=replica_level)
    return ev.ContactMade(
        contact_id=command.contact_id,
        link_id=link.link_id,
        upper_member_id=command.upper_member_id,
        lower_member_id=command.lower_member_id,
        contacted_on=day,
        method=command.method,
        initiated_by=command.initiated_by,
        topics=command.topics,
    )


def meeting_contact_id(meeting_id: UUID, lower_member_id: UUID) -> UUID:
    """The id of a participant's contact in a meeting: it follows from the meeting and the
    participant, so a retried meeting adds nothing."""
    return uuid.uuid5(meeting_id, str(lower_member_id))


def decide_log_meeting(
    command: cmd.LogMeeting,
    links: Sequence[Sequence[Link]],
    today: date,
    *,
    replica_level: bool = False,
) -> list[ev.ContactMade]:
    """One contact per participant, each on their own link active on the meeting's date
    (``links[i]`` are participant ``i``'s links with the upper member); all or none."""
    day = not_in_future(command.contacted_on, today, "contacted_on")
    if len(set(command.lower_member_ids)) != len(command.lower_member_ids):
        raise DomainError(
            "lower_member_ids", "a participant is listed twice", code="duplicate_items"
        )
    made = []
    for index, (lower, theirs) in enumerate(zip(command.lower_member_ids, links, strict=True)):
        field = f"lower_member_ids.{index}"
        link = link_for(theirs, day, field, replica_level=replica_level, member_field=field)
        made.append(
            ev.ContactMade(
                contact_id=meeting_contact_id(command.meeting_id, lower),
                link_id=link.link_id,
                upper_member_id=command.upper_member_id,
                lower_member_id=lower,
                contacted_on=day,
                method=command.method,
                initiated_by="upper",
                topics=command.topics,
                meeting_id=command.meeting_id,
            )
        )
    return made


def decide_correction(
    contact: Contact | None,
    command: cmd.CorrectContact,
    links: Sequence[Link],
    today: date,
    *,
    replica_level: bool = False,
) -> ev.ContactCorrected:
    """The contact's values after the correction (the note as it was: the handler puts in the
    new one, sealed). A new date must not be in the future and must fall on the contact's own
    link period (``links`` are the pair's; unused when the date stays)."""
    contact = require_contact(contact)
    if command.contacted_on is None and command.method is None and command.note is None:
        raise DomainError(
            "contacted_on",
            "nothing to correct: give a date, method or note",
            code="nothing_to_correct",
        )
    day = contact.contacted_on
    if command.contacted_on is not None:
        day = not_in_future(command.contacted_on, today, "contacted_on")
        link = link_for(links, day, "contacted_on", replica_level=replica_level)
        if link.link_id != contact.link_id:
            raise StateConflictError(
                "contacted_on",
                "the new date falls on another link period",
                code="other_link_period",
                date=day.isoformat(),
            )
    return ev.ContactCorrected(
        contact_id=contact.contact_id,
        contacted_on=day,
        method=command.method or contact.method,
        note=contact.note,
        reason=command.reason,
    )


def decide_retraction(contact: Contact | None, command: cmd.RetractContact) -> ev.ContactRetracted:
    """Withdraw a contact that exists and is not already withdrawn."""
    contact = require_contact(contact)
    return ev.ContactRetracted(contact_id=contact.contact_id, reason=command.reason)
