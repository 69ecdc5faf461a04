"""The feedback command handlers: load the suggestion, decide, append with the version seen.

Callers wrap each command in ``retry_on_conflict``: a concurrent change makes the append fail
with ``ConcurrencyError`` and the next attempt decides again on fresh state. That is also what
makes the scheduler safe in several replicas: the loser of a race reloads, finds the
suggestion no longer overdue, and appends nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from uuid import UUID

from escalation import DeadlinePolicy
from eventspine.crypto import PersonalDataVault
from eventspine.envelope import RecordedEvent
from eventspine.errors import NotPermittedError, StateConflictError
from eventspine.events import DomainEvent
from eventspine.replica import Feed
from eventspine.store.base import CommandContext, EventStore
from feedback import commands as cmd
from feedback import domain
from feedback.domain import MemberInfo, Suggestion
from feedback.replica import Chain

SCHEDULER_ACTOR = "service:feedback-scheduler"
_RAISE_NAMESPACE = uuid.UUID("5c0e5a51-7d3e-4f6b-9a0e-15510f33d8a1")


def suggestion_stream(suggestion_id: UUID) -> str:
    """Stream of one suggestion: its whole life."""
    return f"suggestion-{suggestion_id}"


class ReplicaBehindError(StateConflictError):
    """The roster replica has not seen the member yet: retry shortly (HTTP 409)."""

    def __init__(self) -> None:
        super().__init__("actor", "the roster replica has not caught up yet; retry")


class FeedbackService:
    """Handles the feedback commands. Every method appends atomically, or raises."""

    def __init__(
        self,
        store: EventStore,
        vault: PersonalDataVault,
        chain: Chain,
        feed: Feed,
        *,
        policy: DeadlinePolicy,
        departments: Mapping[str, str],
        clock: Callable[[], datetime],
        replica_wait_seconds: float = 2.0,
        cheap_catch_up: bool = False,
    ) -> None:
        self.store = store
        self.vault = vault
        self.chain = chain
        self.feed = feed
        self.policy = policy
        self.departments = dict(departments)
        self.clock = clock
        self.replica_wait_seconds = replica_wait_seconds
        self.cheap_catch_up = cheap_catch_up

    # -- loading ---------------------------------------------------------------------------

    async def load(self, suggestion_id: UUID) -> tuple[Suggestion | None, int, list[RecordedEvent]]:
        """The suggestion's state, stream version and recorded events."""
        recorded = await self.store.read_stream(suggestion_stream(suggestion_id))
        state: Suggestion | None = None
        for event in recorded:
            decoded = self.store.registry.decode(event.event_type, event.schema_version, event.data)
            state = domain.evolve(state, decoded, event.time)
        return state, len(recorded), recorded

    async def _member(self, member_id: UUID, *, must_exist: bool = True) -> MemberInfo | None:
        """A member from the replica, waiting for it to catch up before saying "unknown"."""
        info = await self.chain.member(member_id)
        if info is None:
            caught_up = await self.feed.catch_up(self.replica_wait_seconds)
            info = await self.chain.member(member_id)
            if info is None and must_exist and not caught_up:
                raise ReplicaBehindError()
        return info

    async def _route(self, member_id: UUID) -> domain.Routing:
        """Where the chain leads from a member, by the replica.

        A gap in the tree may only be the replica lagging, so it is looked at again after
        catching up. A local feed is caught up first in any case (a local read); a Kafka feed
        is not: asking the broker how far behind we are costs a fetch round trip (about half a
        second), and a change of upper contact still in flight is routed by the old link.
        """
        if self.cheap_catch_up:
            await self.feed.catch_up(0)
        routing = await self.chain.route_from(member_id)
        if routing.route == "no_upper_contact":
            await self.feed.catch_up(self.replica_wait_seconds)
            routing = await self.chain.route_from(member_id)
        return routing

    async def _actor(self, member_id: UUID) -> MemberInfo:
        info = await self._member(member_id)
        if info is None:
            raise NotPermittedError("actor", "the acting member is not in the roster")
        return info

    async def _seal(self, suggestion_id: UUID, name: str, value: str) -> str:
        return await self.vault.seal(suggestion_id, {name: value})

    async def _append(
        self,
        suggestion_id: UUID,
        version: int,
        events: list[DomainEvent],
        ctx: CommandContext,
    ) -> list[RecordedEvent]:
        if not events:
            return []
        return await self.store.append(suggestion_stream(suggestion_id), version, events, ctx)

    async def _open(
        self, suggestion_id: UUID, ctx: CommandContext
    ) -> tuple[Suggestion, int, list[RecordedEvent] | None]:
        """Load for a command; a retried command (same id) gets what it appended the first time."""
        state, version, recorded = await self.load(suggestion_id)
        if ctx.command_id is not None:
            earlier = [e for e in recorded if e.command_id == ctx.command_id]
            if earlier:
                return domain.require(state), version, earlier
        return domain.require(state), version, None

    # -- commands --------------------------------------------------------------------------

    def suggestion_id_for(self, command: cmd.RaiseSuggestion, ctx: CommandContext) -> UUID:
        """The new suggestion's id: given, or derived from the command id so a retry of a raise
        lands on the same stream (and the store's idempotency returns the first append)."""
        if command.suggestion_id is not None:
            return command.suggestion_id
        if ctx.command_id is not None:
            return uuid.uuid5(_RAISE_NAMESPACE, str(ctx.command_id))
        return uuid.uuid4()

    async def raise_suggestion(
        self, suggestion_id: UUID, command: cmd.RaiseSuggestion, actor_id: UUID, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Raise a suggestion; it goes to the upper contact of the one it speaks for."""
        state, version, recorded = await self.load(suggestion_id)
        if ctx.command_id is not None and any(e.command_id == ctx.command_id for e in recorded):
            return [e for e in recorded if e.command_id == ctx.command_id]
        actor = await self._actor(actor_id)
        worker = None
        if command.on_behalf_of is not None:
            worker = await self._member(command.on_behalf_of, must_exist=False)
            if worker is None or worker.upper_member_id != actor_id:
                # The link may simply not have reached the replica yet: wait before refusing.
                if not await self.feed.catch_up(self.replica_wait_seconds):
                    raise ReplicaBehindError()
                worker = await self.chain.member(command.on_behalf_of)
        speaks_for = domain.check_raiser(actor, worker, command.on_behalf_of)
        domain.check_new(state)  # before sealing: a refused raise creates no key
        routing = await self._route(speaks_for)
        sealed = await self._seal(suggestion_id, "text", command.text)
        events = domain.decide_raise(
            suggestion_id,
            state,
            actor_id,
            command.on_behalf_of,
            command.category,
            command.channel,
            sealed,
            routing,
        )
        return await self._append(suggestion_id, version, events, ctx)

    async def acknowledge(
        self, suggestion_id: UUID, actor_id: UUID, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """The holder has seen the suggestion."""
        state, version, earlier = await self._open(suggestion_id, ctx)
        if earlier is not None:
            return earlier
        events = domain.decide_acknowledge(state, await self._actor(actor_id))
        return await self._append(suggestion_id, version, events, ctx)

    async def answer(
        self,
        suggestion_id: UUID,
        command: cmd.AnswerSuggestion,
        actor_id: UUID,
        ctx: CommandContext,
    ) -> list[RecordedEvent]:
        """The holder answers."""
        state, version, earlier = await self._open(suggestion_id, ctx)
        if earlier is not None:
            return earlier
        actor = await self._actor(actor_id)
        domain.check_answer(state, actor)
        sealed = await self._seal(suggestion_id, "answer", command.answer)
        events = domain.decide_answer(state, actor, sealed)
        return await self._append(suggestion_id, version, events, ctx)

    async def escalate(
        self,
        suggestion_id: UUID,
        command: cmd.EscalateSuggestion,
        actor_id: UUID,
        ctx: CommandContext,
    ) -> list[RecordedEvent]:
        """The holder passes the suggestion to their own upper contact, by hand."""
        state, version, earlier = await self._open(suggestion_id, ctx)
        if earlier is not None:
            return earlier
        actor = await self._actor(actor_id)
        domain.check_escalate(state, actor)
        routing = await self._route(actor_id)
        sealed = await self._seal(suggestion_id, "note", command.reason)
        events = domain.decide_escalate(state, actor, routing, sealed)
        return await self._append(suggestion_id, version, events, ctx)

    async def escalate_if_overdue(
        self, suggestion_id: UUID, now: datetime, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Escalate by itself when the holder's deadline passed or the holder departed."""
        state, version, _ = await self.load(suggestion_id)
        if state is None or state.holder_id is None:
            return []
        holder = await self.chain.member(state.holder_id)
        departed = holder is not None and not holder.active
        if domain.overdue(state, now, self.policy, departed) is None:
            return []
        routing = await self.chain.route_from(state.holder_id)
        events = domain.decide_automatic_escalation(state, now, self.policy, departed, routing)
        return await self._append(suggestion_id, version, events, ctx)

    async def assign(
        self,
        suggestion_id: UUID,
        command: cmd.AssignSuggestion,
        actor_id: UUID,
        ctx: CommandContext,
    ) -> list[RecordedEvent]:
        """At the top of the chain, a federation department takes the suggestion."""
        state, version, earlier = await self._open(suggestion_id, ctx)
        if earlier is not None:
            return earlier
        actor = await self._actor(actor_id)
        events = domain.decide_assign(state, actor, command.department, self.departments)
        return await self._append(suggestion_id, version, events, ctx)

    async def resolve(
        self,
        suggestion_id: UUID,
        command: cmd.ResolveSuggestion,
        actor_id: UUID,
        ctx: CommandContext,
    ) -> list[RecordedEvent]:
        """Record the department's outcome."""
        state, version, earlier = await self._open(suggestion_id, ctx)
        if earlier is not None:
            return earlier
        actor = await self._actor(actor_id)
        domain.check_resolve(state, actor)
        sealed = await self._seal(suggestion_id, "outcome", command.outcome)
        events = domain.decide_resolve(state, actor, sealed)
        return await self._append(suggestion_id, version, events, ctx)

    async def close(
        self, suggestion_id: UUID, actor_id: UUID, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """The raiser confirms the answer or outcome."""
        state, version, earlier = await self._open(suggestion_id, ctx)
        if earlier is not None:
            return earlier
        events = domain.decide_close(state, actor_id)
        return await self._append(suggestion_id, version, events, ctx)

    async def reopen(
        self,
        suggestion_id: UUID,
        command: cmd.ReopenSuggestion,
        actor_id: UUID,
        ctx: CommandContext,
    ) -> list[RecordedEvent]:
        """The raiser is not satisfied."""
        state, version, earlier = await self._open(suggestion_id, ctx)
        if earlier is not None:
            return earlier
        domain.check_close(state, actor_id)
        sealed = await self._seal(suggestion_id, "reason", command.reason)
        events = domain.decide_reopen(state, actor_id, sealed)
        return await self._append(suggestion_id, version, events, ctx)
