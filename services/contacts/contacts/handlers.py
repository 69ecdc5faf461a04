"""The contacts service's command handlers: load the contact and the pair's links, decide
(:mod:`contacts.domain`), seal the note, append. The routing table is at the bottom."""

from __future__ import annotations

from datetime import date
from typing import TypeVar
from uuid import UUID

from pydantic import BaseModel

from contacts import commands as cmd
from contacts import domain
from contacts import events as ev
from contacts.domain import Contact
from contacts.replica import Link, RosterReplica
from eventspine.aggregate import load
from eventspine.clock import FederationClock
from eventspine.crypto import PersonalDataVault
from eventspine.envelope import RecordedEvent
from eventspine.projection import Tx
from eventspine.replica import Feed, FeedRestartingError
from eventspine.store.base import NO_STREAM, AppendRequest, CommandContext, EventStore
from servicekit.commands import Route, route

CATCH_UP_SECONDS = 2.0

Noted = TypeVar("Noted", ev.ContactMade, ev.ContactCorrected)


def contact_stream(contact_id: UUID) -> str:
    """Stream of one contact."""
    return f"contact-{contact_id}"


class ContactsHandlers:
    """Handles the contacts commands. Every handler appends atomically or raises."""

    def __init__(
        self,
        store: EventStore,
        vault: PersonalDataVault,
        replica: RosterReplica,
        reader: Tx,
        feed: Feed,
        clock: FederationClock,
    ) -> None:
        self.store = store
        self.vault = vault
        self.replica = replica
        self.reader = reader
        self.feed = feed
        self.clock = clock

    async def contact(self, contact_id: UUID) -> tuple[Contact | None, int]:
        """A contact's state and stream version."""
        return await load(self.store, contact_stream(contact_id), domain.evolve_contact, None)

    async def links(self, upper: UUID, lower: UUID, day: date) -> list[Link]:
        """The pair's link periods from the roster replica, caught up once first when none of
        them covers ``day`` (a link the roster just made may not have arrived yet)."""
        links = await self.replica.links_between(self.reader, upper, lower)
        if not domain.covers(links, day):
            await self.feed.catch_up(CATCH_UP_SECONDS)
            links = await self.replica.links_between(self.reader, upper, lower)
        return links

    async def replica_level(self) -> bool:
        """Whether the roster replica has applied everything the roster has published (asked
        only when a pair shows no link, after :meth:`links` caught it up)."""
        try:
            return await self.feed.behind() == 0
        except FeedRestartingError:
            return False

    async def _with_note(self, event: Noted, lower: UUID, note: str | None) -> Noted:
        # Sealing creates the lower member's key: only for a decision that stands.
        if note is None:
            return event
        return event.model_copy(update={"note": await self.vault.seal(lower, {"note": note})})

    async def log_contact(
        self, command: cmd.LogContact, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Log one contact on the link that was active on its date."""
        existing, version = await self.contact(command.contact_id)
        links = await self.links(
            command.upper_member_id, command.lower_member_id, command.contacted_on
        )
        level = not links and await self.replica_level()
        event = domain.decide_log_contact(
            command, existing, links, self.clock.today(), replica_level=level
        )
        event = await self._with_note(event, command.lower_member_id, command.note)
        return await self.store.append(contact_stream(command.contact_id), version, [event], ctx)

    async def log_meeting(
        self, command: cmd.LogMeeting, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Log one meeting: a contact on each participant's link, all or nothing."""
        upper, day = command.upper_member_id, command.contacted_on
        links = [
            await self.replica.links_between(self.reader, upper, lower)
            for lower in command.lower_member_ids
        ]
        if not all(domain.covers(theirs, day) for theirs in links):
            # Caught up once for the whole meeting, not once per participant.
            await self.feed.catch_up(CATCH_UP_SECONDS)
            links = [
                await self.replica.links_between(self.reader, upper, lower)
                for lower in command.lower_member_ids
            ]
        level = not all(links) and await self.replica_level()
        made = domain.decide_log_meeting(command, links, self.clock.today(), replica_level=level)
        requests = [
            AppendRequest(
                contact_stream(event.contact_id),
                NO_STREAM,
                [await self._with_note(event, event.lower_member_id, command.note)],
            )
            for event in made
        ]
        return await self.store.append_many(requests, ctx)

    async def correct(
        self, command: cmd.CorrectContact, ctx: CommandContext, *, contact_id: UUID
    ) -> list[RecordedEvent]:
        """Correct a contact; a new date must still fall on the same link."""
        contact, version = await self.contact(contact_id)
        links: list[Link] = []
        level = False
        if contact is not None and command.contacted_on is not None:
            links = await self.links(
                contact.upper_member_id, contact.lower_member_id, command.contacted_on
            )
            level = not links and await self.replica_level()
        event = domain.decide_correction(
            contact, command, links, self.clock.today(), replica_level=level
        )
        assert contact is not None  # the decision refuses an unknown contact
        event = await self._with_note(event, contact.lower_member_id, command.note)
        return await self.store.append(contact_stream(contact_id), version, [event], ctx)

    async def retract(
        self, command: cmd.RetractContact, ctx: CommandContext, *, contact_id: UUID
    ) -> list[RecordedEvent]:
        """Withdraw a contact logged in error."""
        contact, version = await self.contact(contact_id)
        event = domain.decide_retraction(contact, command)
        return await self.store.append(contact_stream(contact_id), version, [event], ctx)


def routes(handlers: ContactsHandlers) -> dict[type[BaseModel], Route]:
    """Which handler runs each contacts command, and the ids a create command makes."""
    return {
        # Its handler only reads, seals and appends: a retry decides again (the contact
        # exists, or the append finds the key) and still gets the first attempt's events.
        cmd.LogContact: route(handlers.log_contact, "contact_id", replay_first=False),
        cmd.LogMeeting: route(handlers.log_meeting, "meeting_id"),
        cmd.CorrectContact: route(handlers.correct),
        cmd.RetractContact: route(handlers.retract),
    }
