"""Feeds: how a service keeps a local replica of another service's events.

Services never call each other to decide a command; they read a local replica built from the
other service's events. In the full topology the replica is fed from Kafka
(:class:`KafkaFeed`); in the embedded default, straight from the other service's SQLite store
(:class:`LocalFeed`). Both tell how far behind they are, so a command can answer "not seen yet,
retry" (409) instead of a wrong "no such link" (422) while the replica catches up.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol

import asyncpg
import structlog

from eventspine.bus import InProcessBus
from eventspine.config import Settings
from eventspine.consumer import ProjectionRunner
from eventspine.deadletter import KafkaDeadLetters, dead_letter_topic
from eventspine.kafka import ensure_topics, make_consumer, make_producer
from eventspine.projection import Projection
from eventspine.schemas import installed_registry

log = structlog.get_logger(__name__)


class Feed(Protocol):
    """A running replica feed."""

    async def start(self) -> None:
        """Start feeding (returns at once)."""

    async def stop(self) -> None:
        """Stop feeding."""

    async def behind(self) -> int:
        """Events known to exist but not yet applied (0: up to date)."""

    async def catch_up(self, seconds: float) -> bool:
        """Wait up to ``seconds`` until nothing is behind; return whether it caught up."""


class FeedRestartingError(RuntimeError):
    """The feed's runner failed and waits to start again (its database or broker is away)."""


class Startable(Protocol):
    """Something started with a feed and stopped with it (a producer, the dead letters)."""

    async def start(self) -> None:
        """Connect."""

    async def stop(self) -> None:
        """Flush and close."""


class KafkaFeed:
    """A :class:`ProjectionRunner` in a background task (with its dead letters' producer, when
    it has one: started and stopped with the feed).

    A runner that fails (its database went away while records were arriving, say) is started
    again after a pause, doubling up to ``max_backoff`` seconds, from the offsets stored with
    its rows: nothing is skipped or applied twice, and the service recovers by itself.
    """

    def __init__(
        self,
        runner: ProjectionRunner,
        producer: Startable | None = None,
        poll_seconds: float = 0.05,
        max_backoff: float = 30.0,
    ) -> None:
        self.runner = runner
        self.producer = producer
        self.poll_seconds = poll_seconds
        self.max_backoff = max_backoff
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failure: Exception | None = None

    async def start(self) -> None:
        """Set up the tables, then consume in the background."""
        if self.producer is not None:
            await self.producer.start()
        await self.runner.setup()
        self._stop.clear()
        self._task = asyncio.create_task(self._supervise())

    async def _supervise(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                self._failure = None
                await self.runner.run(self._stop)
            except Exception as exc:
                self._failure = exc
                log.warning(
                    "projection.restarting",
                    projection=self.runner.projection.name,
                    error=repr(exc),
                    seconds=backoff,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), backoff)
                backoff = min(self.max_backoff, backoff * 2)

    async def stop(self) -> None:
        """Stop consuming and wait for the runner to close its consumer."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.producer is not None:
            await self.producer.stop()

    async def behind(self) -> int:
        """Records on the topics not yet applied; while the runner waits to start again after
        a failure, :class:`FeedRestartingError` naming it."""
        if self._failure is not None:
            raise FeedRestartingError(f"restarting after {self._failure!r}")
        return await self.runner.behind()

    async def catch_up(self, seconds: float) -> bool:
        """Poll until nothing is behind or the time is up (a restarting runner is behind)."""
        deadline = time.monotonic() + seconds
        while True:
            with contextlib.suppress(FeedRestartingError):
                if not await self.behind():
                    return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(self.poll_seconds)


async def kafka_feed(
    settings: Settings,
    projection: Projection,
    pool: asyncpg.Pool,
    schema: str,
    group_prefix: str | None = None,
) -> KafkaFeed:
    """A feed of ``projection`` from its services' topics into ``schema``, as services run it:
    events checked against their types, records it cannot apply sent to ``<topic>.dlq``.
    ``group_prefix`` (default: the topic prefix) names its consumer group."""
    topics = [settings.topic(service) for service in projection.services]
    await ensure_topics(settings, topics + [dead_letter_topic(topic) for topic in topics])
    dead_letters = KafkaDeadLetters(
        make_producer(settings, "dead-letters"),
        producer_factory=lambda: make_producer(settings, "dead-letters"),
    )
    runner = ProjectionRunner(
        projection,
        pool,
        lambda group, names: make_consumer(settings, group, *names),
        topics,
        schema=schema,
        batch_size=settings.consumer_batch_size,
        group_prefix=group_prefix or settings.topic_prefix,
        registry=installed_registry(),
        dead_letters=dead_letters,
    )
    return KafkaFeed(runner, dead_letters)


class LocalFeed:
    """An :class:`InProcessBus` over other services' stores, drained on demand and on a loop."""

    def __init__(self, bus: InProcessBus) -> None:
        self.bus = bus
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open the bus and deliver in the background."""
        await self.bus.open()
        await self.bus.drain()
        self._stop.clear()
        self._task = asyncio.create_task(self.bus.run(self._stop))

    async def stop(self) -> None:
        """Stop delivering and close the bus."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.bus.close()

    async def behind(self) -> int:
        """Events stored in the source stores but not yet delivered."""
        return await self.bus.behind()

    async def catch_up(self, seconds: float) -> bool:
        """Deliver everything stored now (the stores are local: this is immediate)."""
        await self.bus.drain()
        return await self.bus.behind() == 0


class Feeds:
    """Several feeds run as one (a service whose projections each have their own runner)."""

    def __init__(self, feeds: list[Feed]) -> None:
        self.feeds = feeds

    async def start(self) -> None:
        """Start every feed."""
        for feed in self.feeds:
            await feed.start()

    async def stop(self) -> None:
        """Stop every feed."""
        for feed in self.feeds:
            await feed.stop()

    async def behind(self) -> int:
        """Events not yet applied, over all feeds."""
        return sum([await feed.behind() for feed in self.feeds])

    async def catch_up(self, seconds: float) -> bool:
        """Wait (each feed in turn, within the same time budget) until all caught up."""
        deadline = time.monotonic() + seconds
        results = [
            await feed.catch_up(max(0.0, deadline - time.monotonic())) for feed in self.feeds
        ]
        return all(results)
