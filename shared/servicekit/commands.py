"""The command pipeline: how every service runs a command, in one place.

A route builds a command (a frozen pydantic model) and hands it over with
``await pipeline.run(command, ctx, **arguments)``; the pipeline

1. answers a retry (the same ``Idempotency-Key``) with the events its first attempt appended,
   without deciding again, and refuses another request under a key already used
   (:class:`~eventspine.errors.IdempotencyKeyReusedError`, HTTP 422): the request's
   :func:`fingerprint` is recorded with its first append and compared on every retry;
2. fills the ids of the aggregates a create command makes from the key when the client left
   them out (``uuid5(key, field)``), so a retry names the same aggregate;
3. runs the command's handler, again when a concurrent append won the race (the handler
   reloads and decides on fresh state); a route that opts out of step 1's read
   (:attr:`Route.replay_first`) has its retries answered by the append, or, when the handler
   refuses what its first attempt already did, by the same read after the refusal;
4. brings the service's read models up to date before answering (read-your-writes).

The store's append is the atomic guard behind step 1: two requests with one key that race each
other append once (the store answers the second with the first's events, or refuses it when
its fingerprint differs, see :class:`~eventspine.store.base.EventStore`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import rfc8785
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from eventspine.aggregate import retry_on_conflict
from eventspine.envelope import RecordedEvent
from eventspine.errors import DomainError
from eventspine.hashing import canonical_json
from eventspine.store.base import CommandContext, EventStore

C = TypeVar("C", bound=BaseModel)
Handler = Callable[..., Awaitable[list[RecordedEvent]]]
"""``handler(command, ctx, **arguments)``: load, decide, append; the events appended."""


@dataclass(frozen=True)
class Route:
    """How one command type is handled: its handler and the ids it creates."""

    handler: Handler
    new_ids: tuple[str, ...] = ()
    replay_first: bool = True
    """Whether a retry is answered from the store before its handler runs (step 1). A route
    whose handler does nothing but decide and append may leave that to the append, which
    answers a retry atomically anyway: a first attempt, nearly every request, then reads
    one thing less; a retry decides again and gets its first attempt's events all the same."""


def route(handler: Handler, *new_ids: str, replay_first: bool = True) -> Route:
    """A :class:`Route` for ``handler``; ``new_ids`` name the command's fields that hold the
    ids of the aggregates it creates (filled from the Idempotency-Key when left out); see
    :attr:`Route.replay_first`."""
    return Route(handler, new_ids, replay_first)


@dataclass(frozen=True)
class Outcome(Generic[C]):
    """What a command did: the command as run (new ids filled in) and the events appended
    (for a retry, the first attempt's)."""

    command: C
    events: list[RecordedEvent] = field(default_factory=list)


def stable_ids(command: C, ctx: CommandContext, fields: tuple[str, ...]) -> C:
    """``command`` with the new-aggregate ids the client left out derived from its
    ``Idempotency-Key`` (``uuid5(key, field)``); without a key, an id left empty (None) is a
    fresh one and the rest is unchanged."""
    if not fields:
        return command
    key = ctx.command_id
    updates = {
        name: uuid.uuid4() if key is None else uuid.uuid5(key, name)
        for name in fields
        if getattr(command, name) is None
        or (key is not None and name not in command.model_fields_set)
    }
    return command.model_copy(update=updates) if updates else command


def fingerprint(
    command: BaseModel, ctx: CommandContext, arguments: Mapping[str, Any], key: bytes = b""
) -> str:
    """What tells a retry from another request under the same ``Idempotency-Key``: the
    HMAC-SHA-256 (hex) under ``key`` of the RFC 8785 canonical JSON of the command's type, its
    fields as the client set them (before any id is filled in from the key: an id left out is
    left out on the retry too), the handler's ``arguments`` (a path's ids, the acting member)
    and the acting account.

    A body may hold personal data (a name, a phone) and its fingerprint outlives a forgotten
    member's key, so it is keyed with the installation's secret: without the secret, nobody
    can confirm a guess of what a request said by hashing it."""
    content = {
        "command": type(command).__name__,
        "fields": command.model_dump(mode="json", exclude_unset=True),
        "arguments": to_jsonable_python(dict(arguments)),
        "actor": ctx.actor,
    }
    try:
        canonical = canonical_json(content)  # RFC 8785, as the events' digests
    except rfc8785.CanonicalizationError:
        # A number JCS refuses (beyond 2**53 - 1, not finite): any stable spelling still
        # tells this request from another.
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


class UnknownCommandError(LookupError):
    """A command type no route was registered for (a wiring mistake, not the client's)."""


class CommandPipeline:
    """One service's commands: a table from command type to :class:`Route`, run the same way
    for every command (see the module docstring)."""

    def __init__(
        self,
        store: EventStore,
        routes: Mapping[type[BaseModel], Route],
        catch_up: Callable[[], Awaitable[int]],
        *,
        fingerprint_key: bytes = b"",
    ) -> None:
        self.store = store
        self.routes = dict(routes)
        self.catch_up = catch_up
        self.fingerprint_key = fingerprint_key
        """Keys the requests' fingerprints (``SANLIAN_INDEX_SECRET`` in the services)."""

    async def run(self, command: C, ctx: CommandContext, **arguments: Any) -> Outcome[C]:
        """Run ``command`` as ``ctx``'s actor; ``arguments`` (a path's ids, the acting member)
        go to its handler beside it."""
        try:
            target = self.routes[type(command)]
        except KeyError:
            raise UnknownCommandError(type(command).__name__) from None
        if ctx.command_id is not None:
            # The handler's appends record it; the store refuses them when the key was used
            # for another request meanwhile.
            ctx = replace(
                ctx, fingerprint=fingerprint(command, ctx, arguments, self.fingerprint_key)
            )
        command = stable_ids(command, ctx, target.new_ids)
        if target.replay_first and (earlier := await self.store.replay(ctx)):
            return Outcome(command, earlier)
        try:
            recorded = await retry_on_conflict(lambda: target.handler(command, ctx, **arguments))
        except DomainError:
            # A twin request with the same key may have committed between the check above and
            # the handler's read (the handler then refuses: "exists", "already linked"): the
            # client gets what its command did, not a refusal of its own first attempt, unless
            # the twin was another request (then the key's reuse is refused).
            if not (earlier := await self.store.replay(ctx)):
                raise
            recorded = earlier
        await self.catch_up()
        return Outcome(command, recorded)
