"""Loading an aggregate: fold its stream's events into a state, and note its version."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from eventspine.errors import ConcurrencyError
from eventspine.events import DomainEvent
from eventspine.store.base import EventStore

S = TypeVar("S")
T = TypeVar("T")


async def load(
    store: EventStore, stream_id: str, evolve: Callable[[S, DomainEvent], S], initial: S
) -> tuple[S, int]:
    """The state of ``stream_id`` and its version (0 when the stream does not exist).

    Events are decoded through the store's registry, so older versions arrive upcast.
    """
    state = initial
    version = 0
    for recorded in await store.read_stream(stream_id):
        event = store.registry.decode(recorded.event_type, recorded.schema_version, recorded.data)
        state = evolve(state, event)
        version = recorded.stream_version
    return state, version


async def retry_on_conflict(decide_and_append: Callable[[], Awaitable[T]], attempts: int = 8) -> T:
    """Run a load-decide-append step again when a concurrent append won the race.

    The next attempt reloads the streams and decides on fresh state, so a loser either
    succeeds or gets the business reason it must fail (the span is now full, the member is
    already linked), not a bare version clash. Small random pauses spread the retries.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await decide_and_append()
        except ConcurrencyError:
            if attempt == attempts:
                raise
            await asyncio.sleep(random.uniform(0, 0.005 * attempt))
    raise AssertionError("unreachable")
