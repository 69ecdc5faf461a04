"""The contacts service's command handlers: check the link in the replica, decide, append."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from uuid import UUID

from contacts import commands as cmd
from contacts import domain
from contacts import events as ev
from contacts.domain import Contact
from contacts.replica import Link, RosterReplica
from eventspine.aggregate import load
from eventspine.crypto import PersonalDataVault
from eventspine.envelope import RecordedEvent
from eventspine.errors import DomainError, StateConflictError
from eventspine.projection import Tx
from eventspine.replica import Feed
from eventspine.store.base import NO_STREAM, AppendRequest, CommandContext, EventStore

CATCH_UP_SECONDS = 2.0


def contact_stream(contact_id: UUID) -> str:
    """Stream of one contact."""
    return f"contact-{contact_id}"


class ContactsService:
    """Handles the contacts commands. Every method appends atomically or raises."""

    def __init__(
        self,
        store: EventStore,
        vault: PersonalDataVault,
        replica: RosterReplica,
        reader: Tx,
        feed: Feed,
        clock: Callable[[], datetime],
        timezone: tzinfo = UTC,
    ) -> None:
        self.store = store
        self.vault = vault
        self.replica = replica
        self.reader = reader
        self.feed = feed
        self.clock = clock
        self.timezone = timezone

    def today(self) -> date:
        """The federation's date now: a contact dated today there is not in the future, even
        while it is still yesterday in UTC."""
        return self.clock().astimezone(self.timezone).date()

    async def contact(self, contact_id: UUID) -> tuple[Contact | None, int]:
        """A contact's state and stream version."""
        return await load(self.store, contact_stream(contact_id), domain.evolve_contact, None)

    async def link(self, upper: UUID, lower: UUID, day: date, field_name: str) -> Link:
        """The link a contact on ``day`` belongs to, from the roster replica.

        The replica only knows what the roster has published. When it shows no link for the
        pair, the answer is a 409: either they are not linked, or the link is too new to have
        arrived, and a retry will tell. A date outside a known link's active days is a 422.
        """
        for attempt in range(2):
            links = await self.replica.links_between(self.reader, upper, lower)
            if links:
                try:
                    return domain.link_for(links, day, field_name)
                except DomainError:
                    if attempt == 1:
                        raise
            if attempt == 0:
                await self.feed.catch_up(CATCH_UP_SECONDS)
        raise StateConflictError(
            "lower_member_id",
            "is not one of the upper member's contacts as far as the roster has published; "
            "if the link was just made, retry shortly",
        )

    async def _sealed(self, lower: UUID, note: str | None) -> str | None:
        return None if note is None else await self.vault.seal(lower, {"note": note})

    async def log_contact(
        self, command: cmd.LogContact, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Log one contact on the link that was active on its date."""
        day = domain.not_in_future(command.contacted_on, self.today(), "contacted_on")
        existing, version = await self.contact(command.contact_id)
        if existing is not None:
            raise StateConflictError("contact_id", "a contact with this id exists")
        link = await self.link(
            command.upper_member_id, command.lower_member_id, day, "contacted_on"
        )
        event = ev.ContactMade(
            contact_id=command.contact_id,
            link_id=link.link_id,
            upper_member_id=command.upper_member_id,
            lower_member_id=command.lower_member_id,
            contacted_on=day,
            method=command.method,
            initiated_by=command.initiated_by,
            topics=command.topics,
            note=await self._sealed(command.lower_member_id, command.note),
        )
        return await self.store.append(contact_stream(command.contact_id), version, [event], ctx)

    async def log_meeting(
        self, command: cmd.LogMeeting, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Log one meeting: a contact on each participant's link, all or nothing."""
        day = domain.not_in_future(command.contacted_on, self.today(), "contacted_on")
        if len(set(command.lower_member_ids)) != len(command.lower_member_ids):
            raise DomainError("lower_member_ids", "a participant is listed twice")
        requests = []
        for index, lower in enumerate(command.lower_member_ids):
            link = await self.link(command.upper_member_id, lower, day, f"lower_member_ids.{index}")
            # The id follows from the meeting and the participant, so a retry adds nothing.
            contact_id = uuid.uuid5(command.meeting_id, str(lower))
            event = ev.ContactMade(
                contact_id=contact_id,
                link_id=link.link_id,
                upper_member_id=command.upper_member_id,
                lower_member_id=lower,
                contacted_on=day,
                method=command.method,
                initiated_by="upper",
                topics=command.topics,
                note=await self._sealed(lower, command.note),
                meeting_id=command.meeting_id,
            )
            requests.append(AppendRequest(contact_stream(contact_id), NO_STREAM, [event]))
        return await self.store.append_many(requests, ctx)

    async def correct(
        self, contact_id: UUID, command: cmd.CorrectContact, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Correct a contact; a new date must still fall on the same link."""
        contact, version = await self.contact(contact_id)
        contact = domain.require_contact(contact)
        if command.contacted_on is None and command.method is None and command.note is None:
            raise DomainError("contacted_on", "nothing to correct: give a date, method or note")
        day = contact.contacted_on
        if command.contacted_on is not None:
            day = domain.not_in_future(command.contacted_on, self.today(), "contacted_on")
            link = await self.link(
                contact.upper_member_id, contact.lower_member_id, day, "contacted_on"
            )
            if link.link_id != contact.link_id:
                raise DomainError("contacted_on", "the new date falls on another link period")
        note = contact.note
        if command.note is not None:
            note = await self._sealed(contact.lower_member_id, command.note)
        event = ev.ContactCorrected(
            contact_id=contact_id,
            contacted_on=day,
            method=command.method or contact.method,
            note=note,
            reason=command.reason,
        )
        return await self.store.append(contact_stream(contact_id), version, [event], ctx)

    async def retract(
        self, contact_id: UUID, command: cmd.RetractContact, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Withdraw a contact logged in error."""
        contact, version = await self.contact(contact_id)
        domain.require_contact(contact)
        event = ev.ContactRetracted(contact_id=contact_id, reason=command.reason)
        return await self.store.append(contact_stream(contact_id), version, [event], ctx)
