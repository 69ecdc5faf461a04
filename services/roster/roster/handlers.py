"""The roster's command handlers: load the states, let the domain decide, append in one
transaction. The routing table at the bottom says which handler runs which command.

A change that ends links is decided on the contacts logged on them as well, read from the
roster's replica of the contacts service's events (:mod:`roster.contact_dates`, which says what
happens while a contact is logged but not replicated yet).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from uuid import UUID

from pydantic import BaseModel

from contracts.roster import phone_index
from eventspine.aggregate import load
from eventspine.clock import FederationClock
from eventspine.crypto import PersonalDataVault, blind_index
from eventspine.envelope import RecordedEvent
from eventspine.events import DomainEvent
from eventspine.projection import Tx
from eventspine.replica import Feed
from eventspine.store.base import AppendRequest, CommandContext, EventStore
from roster import commands as cmd
from roster import domain
from roster import events as ev
from roster.contact_dates import ContactDates
from roster.domain import (
    Handbook,
    Member,
    NumberClaim,
    PersonalData,
    Sealing,
    SpanPolicy,
    Unit,
)
from servicekit.commands import Route, route

POLICY_STREAM = "policy-span"
HANDBOOK_STREAM = "handbook"
CATCH_UP_SECONDS = 2.0
"""How long a change that ends links waits for the contacts replica to catch up."""


def member_stream(member_id: UUID) -> str:
    """Stream of one member: registration, tier, unit, status, and both sides of its links."""
    return f"member-{member_id}"


def unit_stream(unit_id: UUID) -> str:
    """Stream of one union organisation."""
    return f"unit-{unit_id}"


def number_stream(unit_id: UUID, number_index: str) -> str:
    """Stream that makes an external number unique within a unit."""
    return f"number-{unit_id}-{number_index[:40]}"


def account_stream(account_id: UUID) -> str:
    """Stream of one account: the changes that revoke its tokens."""
    return f"account-{account_id}"


def stream_of(event: DomainEvent) -> str:
    """The stream an event of the roster belongs to."""
    match event:
        case ev.UnitRegistered() | ev.UnitRenamed() | ev.UnitClosed():
            return unit_stream(event.unit_id)
        case ev.ExternalNumberClaimed() | ev.ExternalNumberReleased():
            return number_stream(event.unit_id, event.number_index)
        case ev.SpanPolicyChanged():
            return POLICY_STREAM
        case ev.HandbookPublished():
            return HANDBOOK_STREAM
        case ev.AccountDisabled() | ev.AccountPasswordChanged():
            return account_stream(event.account_id)
        case (
            ev.MemberRegistered()
            | ev.MemberDetailsChanged()
            | ev.MemberTierChanged()
            | ev.MemberMoved()
            | ev.MemberDeparted()
            | ev.MemberForgotten()
            | ev.MemberAssigned()
            | ev.MemberUnassigned()
            | ev.LowerMemberAdded()
            | ev.LowerMemberRemoved()
            | ev.MemberPhoneIndexed()
        ):
            return member_stream(event.member_id)
    raise TypeError(f"not an event of the roster: {type(event).__name__}")


class _Reads:
    """The states one command is decided on, remembering each stream's version for the
    append (which fails if any of them moved on meanwhile)."""

    def __init__(self, store: EventStore, default_policy: SpanPolicy) -> None:
        self.store = store
        self.default_policy = default_policy
        self.versions: dict[str, int] = {}
        self.link_ids: dict[UUID, UUID] = {}
        """Each linked member read so far -> the id of its current link (its ``MemberAssigned``
        event's id, which the contacts service's events name the link by)."""

    async def member(self, member_id: UUID | None) -> Member | None:
        if member_id is None:
            return None
        stream = member_stream(member_id)
        member: Member | None = None
        version = 0
        for recorded in await self.store.read_stream(stream):
            event = self.store.registry.decode(
                recorded.event_type, recorded.schema_version, recorded.data
            )
            member = domain.evolve_member(member, event)
            version = recorded.stream_version
            if isinstance(event, ev.MemberAssigned):
                self.link_ids[member_id] = recorded.id
        self.versions[stream] = version
        if member is None or member.upper_member_id is None:
            self.link_ids.pop(member_id, None)
        return member

    async def unit(self, unit_id: UUID | None) -> Unit | None:
        if unit_id is None:
            return None
        stream = unit_stream(unit_id)
        unit, self.versions[stream] = await load(self.store, stream, domain.evolve_unit, None)
        return unit

    async def claim(self, unit_id: UUID, number_index: str) -> NumberClaim:
        stream = number_stream(unit_id, number_index)
        claim, self.versions[stream] = await load(
            self.store, stream, domain.evolve_claim, NumberClaim()
        )
        return claim

    async def policy(self) -> SpanPolicy:
        policy, self.versions[POLICY_STREAM] = await load(
            self.store, POLICY_STREAM, domain.evolve_policy, self.default_policy
        )
        return policy

    async def handbook(self) -> Handbook:
        handbook, self.versions[HANDBOOK_STREAM] = await load(
            self.store, HANDBOOK_STREAM, domain.evolve_handbook, Handbook()
        )
        return handbook

    async def account(self, account_id: UUID) -> None:
        stream = account_stream(account_id)
        self.versions[stream] = len(await self.store.read_stream(stream))

    async def links_of(self, member: Member | None) -> tuple[Member | None, list[Member]]:
        """The upper member and the lower members of ``member``."""
        if member is None:
            return None, []
        upper = await self.member(member.upper_member_id)
        lowers = [m for i in member.lower_member_ids if (m := await self.member(i)) is not None]
        return upper, lowers

    async def append(
        self, events: Iterable[DomainEvent], ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Append ``events``, each to its stream, at the versions they were decided on."""
        streams: dict[str, list[DomainEvent]] = {}
        for event in events:
            streams.setdefault(stream_of(event), []).append(event)
        requests = [
            AppendRequest(stream, self.versions[stream], changes)
            for stream, changes in streams.items()
        ]
        return await self.store.append_many(requests, ctx)


class RosterHandlers:
    """Handles the roster's commands: ``handler(command, ctx, **path ids)``; each appends
    atomically or raises."""

    def __init__(
        self,
        store: EventStore,
        vault: PersonalDataVault,
        *,
        index_secret: bytes,
        default_policy: SpanPolicy,
        clock: FederationClock,
        contacts: ContactDates,
        contacts_reader: Tx,
        contacts_feed: Feed,
        replica_wait_seconds: float = CATCH_UP_SECONDS,
    ) -> None:
        self.store = store
        self.vault = vault
        self.index_secret = index_secret
        self.default_policy = default_policy
        self.clock = clock
        self.contacts = contacts
        self.contacts_reader = contacts_reader
        self.contacts_feed = contacts_feed
        self.replica_wait_seconds = replica_wait_seconds

    # -- loading ---------------------------------------------------------------------------

    async def member(self, member_id: UUID) -> tuple[Member | None, int]:
        """A member's state and stream version."""
        return await load(self.store, member_stream(member_id), domain.evolve_member, None)

    async def unit(self, unit_id: UUID) -> tuple[Unit | None, int]:
        """A unit's state and stream version."""
        return await load(self.store, unit_stream(unit_id), domain.evolve_unit, None)

    async def policy(self) -> tuple[SpanPolicy, int]:
        """The span policy in force and its stream version."""
        return await load(self.store, POLICY_STREAM, domain.evolve_policy, self.default_policy)

    async def handbook(self) -> Handbook:
        """The handbook in force (version 0, empty, before the first is published)."""
        handbook, _ = await load(self.store, HANDBOOK_STREAM, domain.evolve_handbook, Handbook())
        return handbook

    async def claim(self, unit_id: UUID, number_index: str) -> tuple[NumberClaim, int]:
        """Who holds the external number ``number_index`` stands for in a unit."""
        stream = number_stream(unit_id, number_index)
        return await load(self.store, stream, domain.evolve_claim, NumberClaim())

    def number_index(self, unit_id: UUID, external_number: str) -> str:
        """The keyed hash that stands for an external number within a unit."""
        return blind_index(self.index_secret, str(unit_id), external_number.casefold())

    def _reads(self) -> _Reads:
        return _Reads(self.store, self.default_policy)

    async def latest_contacts(
        self, reads: _Reads, lowers: Iterable[Member | None]
    ) -> dict[UUID, date]:
        """The day of the latest contact on the current link of each linked member of
        ``lowers`` (read through ``reads``), by lower member, as the pure deciders take it.

        The contacts replica is given up to ``replica_wait_seconds`` to catch up first, so a
        contact logged a moment ago counts; past that, the replica decides as it stands (see
        :mod:`roster.contact_dates` for that window)."""
        links = {
            reads.link_ids[m.member_id]: m.member_id
            for m in lowers
            if m is not None and m.member_id in reads.link_ids
        }
        if not links:
            return {}
        await self.contacts_feed.catch_up(self.replica_wait_seconds)
        latest = await self.contacts.latest(self.contacts_reader, links)
        return {links[link_id]: day for link_id, day in latest.items()}

    async def _details(self, member: Member | None) -> PersonalData | None:
        """An active member's personal data (None when their key is gone)."""
        if member is None or not member.active:
            return None
        return await self.vault.unseal(member.member_id, member.personal_data)

    async def _sealed(
        self, decided: Sealing, reads: _Reads, ctx: CommandContext
    ) -> list[RecordedEvent]:
        # Sealing creates the member's key: only now, the command being accepted.
        sealed = await self.vault.seal(decided.member_id, decided.personal_data)
        events = decided.events(sealed)
        phone = decided.personal_data.get("phone")
        changed = any(isinstance(e, ev.MemberDetailsChanged) for e in events)
        if phone or changed:
            # Beside the sealed data, the phone's blind index (null: no phone any more): the
            # feedback service matches a worker's phone from an intake page to their record.
            index = phone_index(self.index_secret, phone) if phone else None
            events.append(ev.MemberPhoneIndexed(member_id=decided.member_id, phone_index=index))
        return await reads.append(events, ctx)

    # -- units -----------------------------------------------------------------------------

    async def register_unit(
        self, command: cmd.RegisterUnit, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Register a union organisation."""
        reads = self._reads()
        existing = await reads.unit(command.unit_id)
        parent = (await self.unit(command.parent_unit_id))[0] if command.parent_unit_id else None
        return await reads.append(domain.decide_register_unit(existing, parent, command), ctx)

    async def rename_unit(
        self, command: cmd.RenameUnit, ctx: CommandContext, *, unit_id: UUID
    ) -> list[RecordedEvent]:
        """Rename a union organisation."""
        reads = self._reads()
        unit = await reads.unit(unit_id)
        return await reads.append(domain.decide_rename_unit(unit, command), ctx)

    async def close_unit(
        self, command: cmd.CloseUnit, ctx: CommandContext, *, unit_id: UUID
    ) -> list[RecordedEvent]:
        """Close a union organisation."""
        reads = self._reads()
        unit = await reads.unit(unit_id)
        return await reads.append(domain.decide_close_unit(unit, command), ctx)

    # -- members ---------------------------------------------------------------------------

    async def register_member(
        self, command: cmd.RegisterMember, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Enter a person in the contact database; the external number must be free in the unit."""
        reads = self._reads()
        unit = await reads.unit(command.unit_id)
        existing = await reads.member(command.member_id)
        index = self.number_index(command.unit_id, command.external_number)
        claim = await reads.claim(command.unit_id, index)
        today = self.clock.today()
        decided = domain.decide_register_member(unit, existing, claim, command, index, today)
        return await self._sealed(decided, reads, ctx)

    async def change_details(
        self, command: cmd.ChangeDetails, ctx: CommandContext, *, member_id: UUID
    ) -> list[RecordedEvent]:
        """Replace a member's name, phone and WeChat id."""
        reads = self._reads()
        member = await reads.member(member_id)
        current = await self._details(member)
        decided = domain.decide_change_details(member, current, command)
        return await self._sealed(decided, reads, ctx)

    async def change_tier(
        self, command: cmd.ChangeTier, ctx: CommandContext, *, member_id: UUID
    ) -> list[RecordedEvent]:
        """Change a member's tier; their links end and their lower members become unlinked."""
        reads = self._reads()
        member = await reads.member(member_id)
        upper, lowers = await reads.links_of(member)
        latest = await self.latest_contacts(reads, [member, *lowers])
        today = self.clock.today()
        return await reads.append(
            domain.decide_change_tier(member, upper, lowers, command, today, latest), ctx
        )

    async def move_member(
        self, command: cmd.MoveMember, ctx: CommandContext, *, member_id: UUID
    ) -> list[RecordedEvent]:
        """Move a member to another union organisation; the number must be free there."""
        reads = self._reads()
        member = await reads.member(member_id)
        target = await reads.unit(command.unit_id)
        current = await self._details(member)
        number = (current or {}).get("external_number") or ""
        index = self.number_index(command.unit_id, number)
        claim = await reads.claim(command.unit_id, index)
        if member is not None:
            await reads.claim(member.unit_id, member.number_index)  # released by the move
        today = self.clock.today()
        decided = domain.decide_move_member(member, target, current, claim, index, command, today)
        return await reads.append(decided, ctx)

    async def depart_member(
        self, command: cmd.DepartMember, ctx: CommandContext, *, member_id: UUID
    ) -> list[RecordedEvent]:
        """A member leaves: every link ends, lower members are left unlinked, visibly."""
        reads = self._reads()
        member = await reads.member(member_id)
        upper, lowers = await reads.links_of(member)
        if member is not None:
            await reads.claim(member.unit_id, member.number_index)  # released by the departure
        latest = await self.latest_contacts(reads, [member, *lowers])
        today = self.clock.today()
        return await reads.append(
            domain.decide_depart_member(member, upper, lowers, command, today, latest), ctx
        )

    async def forget_member(
        self, command: cmd.ForgetMember, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Destroy a member's key (departing them first if needed): their data is gone for good."""
        reads = self._reads()
        member = await reads.member(command.member_id)
        upper, lowers = await reads.links_of(member)
        if member is not None:
            await reads.claim(member.unit_id, member.number_index)
        decided = domain.decide_forget_member(member, upper, lowers, self.clock.today())
        recorded = await reads.append(decided, ctx)
        # After the event: a failed append destroys nothing.
        await self.vault.forget(command.member_id)
        return recorded

    # -- links -----------------------------------------------------------------------------

    async def link(self, command: cmd.LinkMember, ctx: CommandContext) -> list[RecordedEvent]:
        """Link a lower member under an upper member, within the span unless overridden."""
        reads = self._reads()
        lower = await reads.member(command.lower_member_id)
        upper = await reads.member(command.upper_member_id)
        policy, _ = await self.policy()
        today = self.clock.today()
        return await reads.append(
            domain.decide_link_member(lower, upper, policy, command, today), ctx
        )

    async def unlink(self, command: cmd.UnlinkMember, ctx: CommandContext) -> list[RecordedEvent]:
        """End a lower member's link; they are left unlinked. Not before it started, nor on or
        before the latest contact logged on it."""
        reads = self._reads()
        lower = await reads.member(command.lower_member_id)
        upper = await reads.member(lower.upper_member_id if lower is not None else None)
        latest = await self.latest_contacts(reads, [lower])
        today = self.clock.today()
        decided = domain.decide_unlink_member(lower, upper, command, today, latest)
        return await reads.append(decided, ctx)

    async def relink(self, command: cmd.RelinkMember, ctx: CommandContext) -> list[RecordedEvent]:
        """Move a lower member to another upper member in one step, on a day the current link
        may end (not before it started, nor on or before its latest contact)."""
        reads = self._reads()
        lower = await reads.member(command.lower_member_id)
        upper = await reads.member(command.upper_member_id)
        previous = await reads.member(lower.upper_member_id if lower is not None else None)
        policy, _ = await self.policy()
        latest = await self.latest_contacts(reads, [lower])
        today = self.clock.today()
        decided = domain.decide_relink_member(
            lower, upper, previous, policy, command, today, latest
        )
        return await reads.append(decided, ctx)

    async def change_span_policy(
        self, command: cmd.ChangeSpanPolicy, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Record new target spans."""
        reads = self._reads()
        await reads.policy()
        return await reads.append(domain.decide_change_span_policy(command), ctx)

    async def publish_handbook(
        self, command: cmd.PublishHandbook, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Publish the handbook's next version."""
        reads = self._reads()
        current = await reads.handbook()
        return await reads.append(domain.decide_publish_handbook(current, command), ctx)

    # -- accounts --------------------------------------------------------------------------

    async def record_account_disabled(
        self, command: cmd.RecordAccountDisabled, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Record that an account was disabled (its earlier tokens are revoked)."""
        reads = self._reads()
        await reads.account(command.account_id)
        event = ev.AccountDisabled(account_id=command.account_id, disabled_at=command.disabled_at)
        return await reads.append([event], ctx)

    async def record_password_changed(
        self, command: cmd.RecordPasswordChanged, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Record that an account's password changed (its earlier tokens are revoked)."""
        reads = self._reads()
        await reads.account(command.account_id)
        event = ev.AccountPasswordChanged(
            account_id=command.account_id, changed_at=command.changed_at
        )
        return await reads.append([event], ctx)


def command_routes(handlers: RosterHandlers) -> dict[type[BaseModel], Route]:
    """Which handler runs each of the roster's commands, and the new ids its create
    commands name (filled from the Idempotency-Key when the client leaves them out)."""
    return {
        cmd.RegisterUnit: route(handlers.register_unit, "unit_id"),
        cmd.RenameUnit: route(handlers.rename_unit),
        cmd.CloseUnit: route(handlers.close_unit),
        cmd.RegisterMember: route(handlers.register_member, "member_id"),
        cmd.ChangeDetails: route(handlers.change_details),
        cmd.ChangeTier: route(handlers.change_tier),
        cmd.MoveMember: route(handlers.move_member),
        cmd.DepartMember: route(handlers.depart_member),
        cmd.ForgetMember: route(handlers.forget_member),
        cmd.LinkMember: route(handlers.link),
        cmd.UnlinkMember: route(handlers.unlink),
        cmd.RelinkMember: route(handlers.relink),
        cmd.ChangeSpanPolicy: route(handlers.change_span_policy),
        cmd.PublishHandbook: route(handlers.publish_handbook),
        cmd.RecordAccountDisabled: route(handlers.record_account_disabled),
        cmd.RecordPasswordChanged: route(handlers.record_password_changed),
    }
