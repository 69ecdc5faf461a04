"""The roster's command handlers: load the aggregates, decide, append in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from uuid import UUID

from eventspine.aggregate import load, retry_on_conflict
from eventspine.crypto import PersonalDataVault, blind_index
from eventspine.envelope import RecordedEvent
from eventspine.errors import DomainError, NotFoundError, StateConflictError
from eventspine.events import DomainEvent
from eventspine.store.base import AppendRequest, CommandContext, EventStore
from roster import commands as cmd
from roster import domain
from roster import events as ev
from roster.domain import Member, NumberClaim, SpanPolicy, Unit

POLICY_STREAM = "policy-span"


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


class RosterService:
    """Handles the roster's commands. Every method appends atomically or raises."""

    def __init__(
        self,
        store: EventStore,
        vault: PersonalDataVault,
        *,
        index_secret: bytes,
        default_policy: SpanPolicy,
        clock: Callable[[], datetime],
        timezone: tzinfo = UTC,
    ) -> None:
        self.store = store
        self.vault = vault
        self.index_secret = index_secret
        self.default_policy = default_policy
        self.clock = clock
        self.timezone = timezone

    def today(self) -> date:
        """The federation's date now (a date entered today there is not in the future)."""
        return self.clock().astimezone(self.timezone).date()

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

    async def _claim(self, unit_id: UUID, index: str) -> tuple[NumberClaim, int]:
        return await load(
            self.store, number_stream(unit_id, index), domain.evolve_claim, NumberClaim()
        )

    def number_index(self, unit_id: UUID, external_number: str) -> str:
        """The keyed hash that stands for an external number within a unit."""
        return blind_index(self.index_secret, str(unit_id), external_number.casefold())

    def _day(self, value: date | None, field_name: str) -> date:
        today = self.today()
        if value is None:
            return today
        if value > today:
            raise DomainError(field_name, "is in the future")
        return value

    async def _append(
        self,
        changes: Mapping[str, tuple[int, Sequence[DomainEvent]]],
        ctx: CommandContext,
    ) -> list[RecordedEvent]:
        requests = [
            AppendRequest(stream, version, list(events))
            for stream, (version, events) in changes.items()
            if events
        ]
        return await self.store.append_many(requests, ctx)

    async def _members(self, member_ids: Sequence[UUID]) -> dict[UUID, tuple[Member | None, int]]:
        return {member_id: await self.member(member_id) for member_id in member_ids}

    async def _apply_member_changes(
        self,
        changes: Mapping[UUID, Sequence[DomainEvent]],
        loaded: Mapping[UUID, tuple[Member | None, int]],
        extra: Mapping[str, tuple[int, Sequence[DomainEvent]]],
        ctx: CommandContext,
    ) -> list[RecordedEvent]:
        streams = {
            member_stream(member_id): (loaded[member_id][1], events)
            for member_id, events in changes.items()
        }
        return await self._append({**streams, **extra}, ctx)

    # -- units -----------------------------------------------------------------------------

    async def register_unit(
        self, command: cmd.RegisterUnit, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Register a union organisation."""
        existing, version = await self.unit(command.unit_id)
        parent = (await self.unit(command.parent_unit_id))[0] if command.parent_unit_id else None
        event = ev.UnitRegistered(
            unit_id=command.unit_id,
            name=command.name,
            kind=command.kind,
            parent_unit_id=command.parent_unit_id,
        )
        decided = domain.decide_unit_registration(existing, parent, event)
        return await self._append({unit_stream(command.unit_id): (version, decided)}, ctx)

    async def rename_unit(
        self, unit_id: UUID, command: cmd.RenameUnit, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Rename a union organisation."""
        unit, version = await self.unit(unit_id)
        unit = domain.require_unit(unit, "unit_id")
        if unit.name == command.name:
            raise StateConflictError("name", "the union organisation already has this name")
        event = ev.UnitRenamed(unit_id=unit_id, name=command.name)
        return await self._append({unit_stream(unit_id): (version, [event])}, ctx)

    async def close_unit(
        self, unit_id: UUID, command: cmd.CloseUnit, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Close a union organisation."""
        unit, version = await self.unit(unit_id)
        domain.require_unit(unit, "unit_id")
        event = ev.UnitClosed(unit_id=unit_id, reason=command.reason)
        return await self._append({unit_stream(unit_id): (version, [event])}, ctx)

    # -- members ---------------------------------------------------------------------------

    async def register_member(
        self, command: cmd.RegisterMember, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Enter a person in the contact database; the external number must be free in the unit."""
        domain.require_unit((await self.unit(command.unit_id))[0], "unit_id")
        existing, version = await self.member(command.member_id)
        if existing is not None:
            raise StateConflictError("member_id", "a member with this id exists")
        on = self._day(command.registered_on, "registered_on")
        index = self.number_index(command.unit_id, command.external_number)
        claim, claim_version = await self._claim(command.unit_id, index)
        if claim.member_id is not None:
            raise StateConflictError(
                "external_number", "this number is already used by a member of the unit"
            )
        sealed = await self.vault.seal(
            command.member_id,
            {
                "name": command.name,
                "phone": command.phone,
                "wechat_id": command.wechat_id,
                "external_number": command.external_number,
            },
        )
        registered = ev.MemberRegistered(
            member_id=command.member_id,
            unit_id=command.unit_id,
            tier=command.tier,
            personal_data=sealed,
            number_index=index,
            registered_on=on,
        )
        claimed = ev.ExternalNumberClaimed(
            unit_id=command.unit_id, member_id=command.member_id, number_index=index
        )
        return await self._append(
            {
                member_stream(command.member_id): (version, [registered]),
                number_stream(command.unit_id, index): (claim_version, [claimed]),
            },
            ctx,
        )

    async def _personal(self, member: Member) -> dict[str, str | None]:
        data = await self.vault.unseal(member.member_id, member.personal_data)
        if data is None:
            raise StateConflictError("member_id", "the member was forgotten")
        return data

    async def change_details(
        self, member_id: UUID, command: cmd.ChangeDetails, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Replace a member's name, phone and WeChat id."""
        member, version = await self.member(member_id)
        member = domain.require_active(member, "member_id")
        current = await self._personal(member)
        sealed = await self.vault.seal(
            member_id,
            {
                **current,
                "name": command.name,
                "phone": command.phone,
                "wechat_id": command.wechat_id,
            },
        )
        event = ev.MemberDetailsChanged(member_id=member_id, personal_data=sealed)
        return await self._append({member_stream(member_id): (version, [event])}, ctx)

    async def _links_of(
        self, member: Member
    ) -> tuple[dict[UUID, tuple[Member | None, int]], Member | None, list[Member]]:
        ids = [*member.lower_member_ids]
        if member.upper_member_id is not None:
            ids.append(member.upper_member_id)
        loaded = await self._members(ids)
        upper = loaded[member.upper_member_id][0] if member.upper_member_id else None
        lowers = [m for i in member.lower_member_ids if (m := loaded[i][0]) is not None]
        return loaded, upper, lowers

    async def change_tier(
        self, member_id: UUID, command: cmd.ChangeTier, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Change a member's tier; their links end and their lower members become unlinked."""
        member, version = await self.member(member_id)
        member = domain.require_active(member, "member_id")
        if member.tier == command.tier:
            raise StateConflictError("tier", f"the member is already at tier {command.tier}")
        on = self._day(command.changed_on, "changed_on")
        loaded, upper, lowers = await self._links_of(member)
        loaded[member_id] = (member, version)
        changes = domain.end_all_links(member, upper, lowers, on, "tier_changed", "tier_changed")
        changes[member_id].append(
            ev.MemberTierChanged(
                member_id=member_id, from_tier=member.tier, to_tier=command.tier, changed_on=on
            )
        )
        return await self._apply_member_changes(changes, loaded, {}, ctx)

    async def move_member(
        self, member_id: UUID, command: cmd.MoveMember, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Move a member to another union organisation; the number must be free there."""
        member, version = await self.member(member_id)
        member = domain.require_active(member, "member_id")
        domain.require_unit((await self.unit(command.unit_id))[0], "unit_id")
        if member.unit_id == command.unit_id:
            raise StateConflictError("unit_id", "the member is already in this organisation")
        on = self._day(command.moved_on, "moved_on")
        number = (await self._personal(member))["external_number"] or ""
        index = self.number_index(command.unit_id, number)
        claim, claim_version = await self._claim(command.unit_id, index)
        if claim.member_id is not None:
            raise StateConflictError(
                "unit_id", "the member's external number is already used in that organisation"
            )
        _, old_version = await self._claim(member.unit_id, member.number_index)
        moved = ev.MemberMoved(
            member_id=member_id,
            from_unit_id=member.unit_id,
            to_unit_id=command.unit_id,
            number_index=index,
            moved_on=on,
        )
        return await self._append(
            {
                member_stream(member_id): (version, [moved]),
                number_stream(command.unit_id, index): (
                    claim_version,
                    [
                        ev.ExternalNumberClaimed(
                            unit_id=command.unit_id, member_id=member_id, number_index=index
                        )
                    ],
                ),
                number_stream(member.unit_id, member.number_index): (
                    old_version,
                    [
                        ev.ExternalNumberReleased(
                            unit_id=member.unit_id,
                            member_id=member_id,
                            number_index=member.number_index,
                        )
                    ],
                ),
            },
            ctx,
        )

    async def _departure(
        self, member: Member, version: int, on: date, reason: str | None
    ) -> tuple[
        dict[UUID, list[DomainEvent]],
        dict[UUID, tuple[Member | None, int]],
        dict[str, tuple[int, Sequence[DomainEvent]]],
    ]:
        loaded, upper, lowers = await self._links_of(member)
        loaded[member.member_id] = (member, version)
        changes = domain.end_all_links(member, upper, lowers, on, "departed", "upper_departed")
        changes[member.member_id].append(
            ev.MemberDeparted(member_id=member.member_id, departed_on=on, reason=reason)
        )
        _, claim_version = await self._claim(member.unit_id, member.number_index)
        released = ev.ExternalNumberReleased(
            unit_id=member.unit_id, member_id=member.member_id, number_index=member.number_index
        )
        extra: dict[str, tuple[int, Sequence[DomainEvent]]] = {
            number_stream(member.unit_id, member.number_index): (claim_version, [released])
        }
        return changes, loaded, extra

    async def depart_member(
        self, member_id: UUID, command: cmd.DepartMember, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """A member leaves: every link ends, lower members are left unlinked, visibly."""
        member, version = await self.member(member_id)
        member = domain.require_active(member, "member_id")
        on = self._day(command.departed_on, "departed_on")
        changes, loaded, extra = await self._departure(member, version, on, command.reason)
        return await self._apply_member_changes(changes, loaded, extra, ctx)

    async def forget_member(self, member_id: UUID, ctx: CommandContext) -> list[RecordedEvent]:
        """Destroy a member's key (departing them first if needed): their data is gone for good."""
        member, version = await self.member(member_id)
        if member is None:
            raise NotFoundError("member_id", "no such member")
        if member.status == "forgotten":
            raise StateConflictError("member_id", "the member was already forgotten")
        forgotten = ev.MemberForgotten(member_id=member_id)
        if member.active:
            changes, loaded, extra = await self._departure(
                member, version, self.today(), "forgotten"
            )
            changes[member_id].append(forgotten)
            recorded = await self._apply_member_changes(changes, loaded, extra, ctx)
        else:
            recorded = await self._append({member_stream(member_id): (version, [forgotten])}, ctx)
        await self.vault.forget(member_id)  # after the event: a failed append destroys nothing
        return recorded

    # -- links -----------------------------------------------------------------------------

    async def link(self, command: cmd.LinkMember, ctx: CommandContext) -> list[RecordedEvent]:
        """Link a lower member under an upper member, within the span unless overridden."""
        on = self._day(command.assigned_on, "assigned_on")
        loaded = await self._members([command.lower_member_id, command.upper_member_id])
        policy, _ = await self.policy()
        changes = domain.decide_link(
            loaded[command.lower_member_id][0],
            loaded[command.upper_member_id][0],
            policy,
            on,
            command.span_override_reason,
        )
        return await self._apply_member_changes(changes, loaded, {}, ctx)

    async def unlink(self, command: cmd.UnlinkMember, ctx: CommandContext) -> list[RecordedEvent]:
        """End a lower member's link; they are left unlinked."""
        on = self._day(command.unassigned_on, "unassigned_on")
        lower, lower_version = await self.member(command.lower_member_id)
        lower = domain.require_active(lower, "lower_member_id")
        if lower.upper_member_id is None:
            raise StateConflictError("lower_member_id", "the member is not linked")
        upper, upper_version = await self.member(lower.upper_member_id)
        if upper is None:
            raise NotFoundError("lower_member_id", "the upper member is unknown")
        loaded = {lower.member_id: (lower, lower_version), upper.member_id: (upper, upper_version)}
        changes = domain.decide_unlink(lower, upper, on, "unlinked")
        return await self._apply_member_changes(changes, loaded, {}, ctx)

    async def relink(self, command: cmd.RelinkMember, ctx: CommandContext) -> list[RecordedEvent]:
        """Move a lower member to another upper member in one step."""
        on = self._day(command.assigned_on, "assigned_on")
        lower, _ = await self.member(command.lower_member_id)
        lower = domain.require_active(lower, "lower_member_id")
        if lower.upper_member_id is None:
            raise StateConflictError("lower_member_id", "the member is not linked; link instead")
        ids = [command.lower_member_id, command.upper_member_id, lower.upper_member_id]
        loaded = await self._members(list(dict.fromkeys(ids)))
        policy, _ = await self.policy()
        changes = domain.decide_link(
            loaded[command.lower_member_id][0],
            loaded[command.upper_member_id][0],
            policy,
            on,
            command.span_override_reason,
            relink_from=loaded[lower.upper_member_id][0],
        )
        return await self._apply_member_changes(changes, loaded, {}, ctx)

    async def change_span_policy(
        self, command: cmd.ChangeSpanPolicy, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Record new target spans."""
        _, version = await self.policy()
        event = ev.SpanPolicyChanged(
            leader=command.leader,
            committee=command.committee,
            representative=command.representative,
            reason=command.reason,
        )
        return await self._append({POLICY_STREAM: (version, [event])}, ctx)

    # -- accounts --------------------------------------------------------------------------

    async def _account_event(
        self, account_id: UUID, event: DomainEvent, ctx: CommandContext
    ) -> None:
        stream = account_stream(account_id)

        async def append() -> list[RecordedEvent]:
            version = len(await self.store.read_stream(stream))
            return await self.store.append(stream, version, [event], ctx)

        await retry_on_conflict(append)

    async def account_disabled(self, account_id: UUID, at: datetime, ctx: CommandContext) -> None:
        """Record that an account was disabled at ``at`` (its earlier tokens are revoked)."""
        event = ev.AccountDisabled(account_id=account_id, disabled_at=at)
        await self._account_event(account_id, event, ctx)

    async def account_password_changed(
        self, account_id: UUID, at: datetime, ctx: CommandContext
    ) -> None:
        """Record that an account's password changed at ``at`` (its earlier tokens are
        revoked)."""
        await self._account_event(
            account_id, ev.AccountPasswordChanged(account_id=account_id, changed_at=at), ctx
        )
