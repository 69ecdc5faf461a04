"""The feedback command handlers: load the suggestion and the facts, decide, seal, append.

Each handler is ``handler(command, ctx, **arguments)`` for the command pipeline
(:mod:`servicekit.commands`, which answers retries and runs a handler again when a concurrent
append won the race); the routing table is :func:`routes`, at the bottom. Handlers append
with the version they read, so a concurrent change makes the append fail with
``ConcurrencyError`` and the next attempt decides again on fresh state. That is also what
makes the scheduler safe in several replicas: the loser of a race reloads, finds the
suggestion no longer overdue, and appends nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from pydantic import BaseModel

from escalation import DeadlinePolicy
from eventspine.crypto import PersonalDataVault
from eventspine.envelope import RecordedEvent
from eventspine.errors import NotPermittedError, StateConflictError
from eventspine.events import DomainEvent
from eventspine.replica import Feed
from eventspine.store.base import CommandContext, EventStore
from feedback import clocks, departments, domain, tagging
from feedback import commands as cmd
from feedback.domain import Decision, Unsealed
from feedback.replica import Chain
from feedback.state import MemberInfo, Routing, Suggestion, evolve
from feedback.tagging import Vocabulary
from servicekit.commands import Route, route

SCHEDULER_ACTOR = "service:feedback-scheduler"


def suggestion_stream(suggestion_id: UUID) -> str:
    """Stream of one suggestion: its whole life."""
    return f"suggestion-{suggestion_id}"


def new_suggestion_id(command: cmd.RaiseSuggestion) -> UUID:
    """The id of the suggestion a raise creates (filled in by the command pipeline)."""
    assert command.suggestion_id is not None, "the pipeline fills in new ids"
    return command.suggestion_id


class ReplicaBehindError(StateConflictError):
    """The roster replica has not seen the member yet: retry shortly (HTTP 409)."""

    def __init__(self) -> None:
        super().__init__(
            "actor",
            "the roster replica has not caught up yet; retry",
            code="replica_behind",
            headers={"Retry-After": "1"},
        )


class FeedbackHandlers:
    """Handles the feedback commands. Every handler appends atomically, or raises."""

    def __init__(
        self,
        store: EventStore,
        vault: PersonalDataVault,
        chain: Chain,
        feed: Feed,
        *,
        policy: DeadlinePolicy,
        departments: Mapping[str, str],
        replica_wait_seconds: float = 2.0,
        cheap_catch_up: bool = False,
        department_days: float | None = None,
        vocabulary: Vocabulary | None = None,
    ) -> None:
        self.store = store
        self.vault = vault
        self.chain = chain
        self.feed = feed
        self.policy = policy
        self.departments = dict(departments)
        self.replica_wait_seconds = replica_wait_seconds
        self.cheap_catch_up = cheap_catch_up
        self.department_days = department_days
        self.vocabulary = vocabulary or Vocabulary(())

    # -- loading ---------------------------------------------------------------------------

    async def load(self, suggestion_id: UUID) -> tuple[Suggestion | None, int]:
        """The suggestion's state and stream version (None and 0 if it does not exist)."""
        recorded = await self.store.read_stream(suggestion_stream(suggestion_id))
        state: Suggestion | None = None
        for event in recorded:
            decoded = self.store.registry.decode(event.event_type, event.schema_version, event.data)
            state = evolve(state, decoded, event.time)
        return state, len(recorded)

    async def _existing(self, suggestion_id: UUID) -> tuple[Suggestion, int]:
        state, version = await self.load(suggestion_id)
        return domain.require(state), version

    async def _member(self, member_id: UUID, *, must_exist: bool = True) -> MemberInfo | None:
        """A member from the replica, waiting for it to catch up before saying "unknown"."""
        info = await self.chain.member(member_id)
        if info is None:
            caught_up = await self.feed.catch_up(self.replica_wait_seconds)
            info = await self.chain.member(member_id)
            if info is None and must_exist and not caught_up:
                raise ReplicaBehindError()
        return info

    async def _worker_by_phone(self, phone_index: str) -> UUID | None:
        """The active member with this phone, by the replica, looked at again after catching
        up when none is found: a worker just added to the roster may not have reached it."""
        found = await self.chain.member_by_phone(phone_index)
        if found is None:
            await self.feed.catch_up(self.replica_wait_seconds)
            found = await self.chain.member_by_phone(phone_index)
        return found

    async def _route(self, member_id: UUID) -> Routing:
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
            raise NotPermittedError(
                "actor", "the acting member is not in the roster", code="actor_not_in_roster"
            )
        return info

    async def _append(
        self, suggestion_id: UUID, version: int, decision: Decision, ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Seal what the decision left in clear, under the suggestion's key, and append.

        Sealing creates the key, so it comes after the decision: a refused command raised
        before getting here and left no key behind.
        """
        if not decision:
            return []
        events: list[DomainEvent] = []
        for item in decision:
            if isinstance(item, Unsealed):
                item = item.build(await self.vault.seal(suggestion_id, {item.field: item.clear}))
            events.append(item)
        return await self.append(suggestion_id, version, events, ctx)

    async def append(
        self, suggestion_id: UUID, version: int, events: list[DomainEvent], ctx: CommandContext
    ) -> list[RecordedEvent]:
        """Append to the suggestion's stream, each clock an event starts stamped with the
        rule in force now (:mod:`feedback.clocks`)."""
        stamped = clocks.stamp(events, self.policy, self.department_days, self.store.clock())
        return await self.store.append(suggestion_stream(suggestion_id), version, stamped, ctx)

    # -- commands --------------------------------------------------------------------------

    async def raise_suggestion(
        self, command: cmd.RaiseSuggestion, ctx: CommandContext, *, actor_id: UUID
    ) -> list[RecordedEvent]:
        """Raise a suggestion; it goes to the upper contact of the one it speaks for."""
        suggestion_id = new_suggestion_id(command)
        existing, version = await self.load(suggestion_id)
        actor = await self._actor(actor_id)
        worker = None
        if command.on_behalf_of is not None:
            worker = await self._member(command.on_behalf_of, must_exist=False)
            if worker is None or worker.upper_member_id != actor_id:
                # The link may simply not have reached the replica yet: wait before refusing.
                if not await self.feed.catch_up(self.replica_wait_seconds):
                    raise ReplicaBehindError()
                worker = await self.chain.member(command.on_behalf_of)
        # An unknown worker is refused by the decision, so the actor's routing goes unused then.
        routing = await self._route(worker.member_id if worker is not None else actor_id)
        up = await self._route(actor_id) if command.then == "pass_up" else None
        decision = domain.decide_raise(command, suggestion_id, existing, actor, worker, routing, up)
        # Its tags, in the same append (an unknown tag refuses the raise).
        decision += tagging.on_arrival(
            suggestion_id, command.tags, command.text, self.vocabulary, actor_id
        )
        return await self._append(suggestion_id, version, decision, ctx)

    async def acknowledge(
        self,
        command: cmd.AcknowledgeSuggestion,
        ctx: CommandContext,
        *,
        suggestion_id: UUID,
        actor_id: UUID,
    ) -> list[RecordedEvent]:
        """The holder has seen the suggestion."""
        state, version = await self._existing(suggestion_id)
        decision = domain.decide_acknowledge(state, await self._actor(actor_id))
        return await self._append(suggestion_id, version, decision, ctx)

    async def answer(
        self,
        command: cmd.AnswerSuggestion,
        ctx: CommandContext,
        *,
        suggestion_id: UUID,
        actor_id: UUID,
    ) -> list[RecordedEvent]:
        """The holder answers."""
        state, version = await self._existing(suggestion_id)
        decision = domain.decide_answer(state, await self._actor(actor_id), command)
        return await self._append(suggestion_id, version, decision, ctx)

    async def escalate(
        self,
        command: cmd.EscalateSuggestion,
        ctx: CommandContext,
        *,
        suggestion_id: UUID,
        actor_id: UUID,
    ) -> list[RecordedEvent]:
        """The holder passes the suggestion to their own upper contact, by hand."""
        state, version = await self._existing(suggestion_id)
        actor = await self._actor(actor_id)
        routing = await self._route(actor_id)
        decision = domain.decide_escalate(state, actor, command, routing)
        return await self._append(suggestion_id, version, decision, ctx)

    async def escalate_overdue(
        self, command: cmd.EscalateOverdue, ctx: CommandContext, *, suggestion_id: UUID
    ) -> list[RecordedEvent]:
        """Escalate by itself when the holder's deadline passed or the holder departed."""
        state, version = await self.load(suggestion_id)
        if state is None or state.holder_id is None:
            return []  # gone, or at the top of the chain: there is no one further up
        holder = await self.chain.member(state.holder_id)
        departed = holder is not None and not holder.active
        routing = await self.chain.route_from(state.holder_id)
        decision = domain.decide_automatic_escalation(
            state, command.at, self.policy, departed, routing
        )
        return await self._append(suggestion_id, version, decision, ctx)

    async def department_overdue(
        self, command: cmd.EscalateOverdue, ctx: CommandContext, *, suggestion_id: UUID
    ) -> list[RecordedEvent]:
        """Send a department's overdue step back to whoever assigned it (超期)."""
        state, version = await self.load(suggestion_id)
        decision = domain.decide_department_overdue(state, command.at, self.department_days)
        return await self._append(suggestion_id, version, decision, ctx)

    async def assign(
        self,
        command: cmd.AssignSuggestion,
        ctx: CommandContext,
        *,
        suggestion_id: UUID,
        actor_id: UUID,
    ) -> list[RecordedEvent]:
        """At the top of the chain, a federation department takes the suggestion."""
        state, version = await self._existing(suggestion_id)
        actor = await self._actor(actor_id)
        decision = domain.decide_assign(state, actor, command, self.departments)
        return await self._append(suggestion_id, version, decision, ctx)

    async def resolve(
        self,
        command: cmd.ResolveSuggestion,
        ctx: CommandContext,
        *,
        suggestion_id: UUID,
        actor_id: UUID,
    ) -> list[RecordedEvent]:
        """Record the department's outcome (a member acting for it, or the holder)."""
        state, version = await self._existing(suggestion_id)
        # Who acts for the department, from its own stream.
        acting = (
            (await departments.load(self.store, state.department))[0].members
            if state.department
            else frozenset()
        )
        decision = domain.decide_resolve(state, await self._actor(actor_id), command, acting)
        return await self._append(suggestion_id, version, decision, ctx)

    async def close(
        self,
        command: cmd.CloseSuggestion,
        ctx: CommandContext,
        *,
        suggestion_id: UUID,
        actor_id: UUID,
    ) -> list[RecordedEvent]:
        """The raiser confirms the answer or outcome."""
        state, version = await self._existing(suggestion_id)
        decision = domain.decide_close(state, actor_id)
        return await self._append(suggestion_id, version, decision, ctx)

    async def reopen(
        self,
        command: cmd.ReopenSuggestion,
        ctx: CommandContext,
        *,
        suggestion_id: UUID,
        actor_id: UUID,
    ) -> list[RecordedEvent]:
        """The raiser is not satisfied."""
        state, version = await self._existing(suggestion_id)
        decision = domain.decide_reopen(state, actor_id, command)
        return await self._append(suggestion_id, version, decision, ctx)


def routes(handlers: FeedbackHandlers) -> dict[type[BaseModel], Route]:
    """Which handler runs each feedback command; a raise creates ``suggestion_id``."""
    return {
        cmd.RaiseSuggestion: route(handlers.raise_suggestion, "suggestion_id"),
        cmd.AcknowledgeSuggestion: route(handlers.acknowledge),
        cmd.AnswerSuggestion: route(handlers.answer),
        cmd.EscalateSuggestion: route(handlers.escalate),
        cmd.EscalateOverdue: route(handlers.escalate_overdue),
        cmd.AssignSuggestion: route(handlers.assign),
        cmd.ResolveSuggestion: route(handlers.resolve),
        cmd.CloseSuggestion: route(handlers.close),
        cmd.ReopenSuggestion: route(handlers.reopen),
    }
