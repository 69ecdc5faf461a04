"""Handlers of the workers' door: load, decide (:mod:`feedback.intake`), seal, append.

They share the suggestion handlers' loading, replica and sealing (:class:`FeedbackHandlers`)
and add the intake read model (is the link live, what did it take lately, which suggestion a
follow-up code is) and the signer. ``routes`` at the bottom extends the feedback routing table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel

from contracts.roster import phone_index
from eventspine.envelope import RecordedEvent
from eventspine.errors import NotFoundError
from eventspine.events import DomainEvent
from eventspine.store.base import CommandContext
from feedback import intake, tagging
from feedback import intake_commands as icmd
from feedback.handlers import FeedbackHandlers
from feedback.intake import IntakeOwnerState, LinkInfo
from feedback.intake_view import IntakeQueries
from feedback.signing import Signer
from feedback.state import HOLDER_TIERS, Routing
from servicekit.commands import Route, route


def owner_stream(owner: str, owner_id: UUID) -> str:
    """Stream of one owner's intake links (one live at a time)."""
    return f"intake-{owner}-{owner_id}"


def intake_actor(link_id: UUID) -> str:
    """The actor recorded on what a worker did through a link (no account behind it)."""
    return f"intake:{link_id}"


class IntakeHandlers:
    """Handles the intake commands."""

    def __init__(
        self,
        base: FeedbackHandlers,
        queries: IntakeQueries,
        signer: Signer,
        *,
        index_secret: bytes,
        clock: Callable[[], datetime],
        catch_up: Callable[[], Awaitable[int]],
        per_link_per_hour: int,
        duplicate_hours: float,
    ) -> None:
        self.base = base
        self.queries = queries
        self.signer = signer
        self.index_secret = index_secret
        self.clock = clock
        self.catch_up = catch_up
        self.per_link_per_hour = per_link_per_hour
        self.duplicate_hours = duplicate_hours

    async def _owner(self, stream: str) -> tuple[IntakeOwnerState, int]:
        store = self.base.store
        recorded = await store.read_stream(stream)
        state = IntakeOwnerState()
        for event in recorded:
            decoded = store.registry.decode(event.event_type, event.schema_version, event.data)
            state = intake.evolve_owner(state, decoded)
        return state, len(recorded)

    async def _link(self, link_id: UUID) -> LinkInfo:
        await self.catch_up()
        link = await self.queries.link(link_id)
        if link is None:
            raise intake.LinkInvalidError()
        return link

    async def issue_link(
        self, command: icmd.IssueIntakeLink, ctx: CommandContext, *, actor_id: UUID
    ) -> list[RecordedEvent]:
        """Issue a link; the owner's live one is revoked in the same append."""
        assert command.link_id is not None, "the pipeline fills in new ids"
        actor = await self.base._actor(actor_id)
        chain = self.base.chain
        holder = holder_unit = None
        if command.owner == "unit" and command.holder_id is not None:
            holder = await self.base._member(command.holder_id, must_exist=False)
            holder_unit = await chain.unit_of(command.holder_id)
        owner_id = actor_id if command.owner == "representative" else command.unit_id
        state, version = (
            await self._owner(owner_stream(command.owner, owner_id))
            if owner_id is not None
            else (IntakeOwnerState(), 0)
        )
        events = intake.decide_issue(
            state,
            command.link_id,
            command.owner,
            actor,
            await chain.unit_of(actor_id),
            holder,
            holder_unit,
            command.unit_id,
        )
        assert owner_id is not None, "decide_issue refuses a unit link without a unit"
        return await self.base.store.append(
            owner_stream(command.owner, owner_id), version, events, ctx
        )

    async def revoke_link(
        self,
        command: icmd.RevokeIntakeLink,
        ctx: CommandContext,
        *,
        link_id: UUID,
        actor_id: UUID,
    ) -> list[RecordedEvent]:
        """Withdraw a live link."""
        link = await self._link(link_id)
        stream = owner_stream(link.owner, link.owner_id)
        state, version = await self._owner(stream)
        events = intake.decide_revoke(state, link, await self.base._actor(actor_id))
        return await self.base.store.append(stream, version, events, ctx)

    async def _routing(self, holder_id: UUID) -> Routing:
        """The link's holder, or the next one up if they departed or changed tier."""
        holder = await self.base._member(holder_id, must_exist=False)
        if holder is not None and holder.active and holder.tier in HOLDER_TIERS:
            return Routing(holder.member_id, holder.tier, "upper_contact")
        return await self.base.chain.route_from(holder_id)

    async def submit(
        self, command: icmd.SubmitSuggestion, ctx: CommandContext, *, link_id: UUID
    ) -> list[RecordedEvent]:
        """Receive a worker's suggestion by a link, held by the link's holder."""
        assert command.suggestion_id is not None, "the pipeline fills in new ids"
        suggestion_id = command.suggestion_id
        link = await self._link(link_id)
        existing, version = await self.base.load(suggestion_id)
        now = self.clock()
        recent = await self.queries.received_since(link_id, now - timedelta(hours=1))
        duplicate = await self.queries.same_text_since(
            link_id, command.text, now - timedelta(hours=self.duplicate_hours)
        )
        worker_id = None
        if command.phone:
            index = phone_index(self.index_secret, command.phone)
            worker_id = await self.base._worker_by_phone(index) if index else None
        code_index = self.signer.follow_up_index(self.signer.follow_up_code(suggestion_id))
        assert code_index is not None, "a code the signer made has a code's shape"
        arrival = intake.decide_receive(
            link,
            suggestion_id,
            existing,
            category=command.category,
            text=command.text,
            name=command.name,
            phone=command.phone,
            worker_id=worker_id,
            follow_up_index=code_index,
            routing=await self._routing(link.holder_id),
            recent=recent,
            per_hour=self.per_link_per_hour,
            duplicate=duplicate,
        )
        tagging.chosen(command.tags, self.base.vocabulary)  # refused before any key exists
        vault = self.base.vault
        # Sealing creates the suggestion's key: only now, the suggestion being accepted.
        text = await vault.seal(suggestion_id, {"text": arrival.text})
        contact = await vault.seal(suggestion_id, arrival.contact) if arrival.contact else None
        event: DomainEvent = arrival.build(text, contact)
        tagged = tagging.on_arrival(
            suggestion_id, command.tags, command.text, self.base.vocabulary, None
        )
        return await self.base.append(suggestion_id, version, [event, *tagged], ctx)

    async def suggestion_of(self, code: str) -> UUID:
        """The suggestion a follow-up code belongs to, or 404."""
        index = self.signer.follow_up_index(code)
        await self.catch_up()
        found = await self.queries.by_code(index) if index else None
        if found is None:
            raise NotFoundError(
                "code", "no suggestion has this follow-up code", code="follow_up_code_unknown"
            )
        return found

    async def rate(
        self, command: icmd.RateSuggestion, ctx: CommandContext, *, code: str
    ) -> list[RecordedEvent]:
        """The worker who holds the follow-up code rates the answer or outcome."""
        suggestion_id = await self.suggestion_of(code)
        state, version = await self.base._existing(suggestion_id)
        if state.follow_up_index != self.signer.follow_up_index(code):
            raise NotFoundError(
                "code", "no suggestion has this follow-up code", code="follow_up_code_unknown"
            )
        decision = intake.decide_rate(state, None, command.rating, command.comment, command.reopen)
        return await self.base._append(suggestion_id, version, decision, ctx)

    async def rate_own(
        self,
        command: icmd.RateOwnSuggestion,
        ctx: CommandContext,
        *,
        suggestion_id: UUID,
        actor_id: UUID,
    ) -> list[RecordedEvent]:
        """A member who raised a suggestion rates its answer or outcome."""
        state, version = await self.base._existing(suggestion_id)
        decision = intake.decide_rate(
            state, actor_id, command.rating, command.comment, command.reopen
        )
        return await self.base._append(suggestion_id, version, decision, ctx)

    async def set_aside(
        self,
        command: icmd.SetSuggestionAside,
        ctx: CommandContext,
        *,
        suggestion_id: UUID,
        actor_id: UUID,
    ) -> list[RecordedEvent]:
        """The holder sets a suggestion aside as spam or a duplicate."""
        state, version = await self.base._existing(suggestion_id)
        original = None
        if command.duplicate_of is not None:
            original, _ = await self.base.load(command.duplicate_of)
        decision = intake.decide_set_aside(
            state,
            await self.base._actor(actor_id),
            command.mark,
            command.reason,
            command.duplicate_of,
            original,
        )
        return await self.base._append(suggestion_id, version, decision, ctx)


def intake_routes(handlers: IntakeHandlers) -> dict[type[BaseModel], Route]:
    """Which handler runs each intake command; issuing creates ``link_id``, submitting
    ``suggestion_id``."""
    return {
        icmd.IssueIntakeLink: route(handlers.issue_link, "link_id"),
        icmd.RevokeIntakeLink: route(handlers.revoke_link),
        icmd.SubmitSuggestion: route(handlers.submit, "suggestion_id"),
        icmd.RateSuggestion: route(handlers.rate),
        icmd.RateOwnSuggestion: route(handlers.rate_own),
        icmd.SetSuggestionAside: route(handlers.set_aside),
    }
