"""Long-running platform processes (relay, projection runner) and their wiring from settings."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import import_module
from typing import Any

import structlog

from eventspine.config import Settings
from eventspine.consumer import ProjectionRunner
from eventspine.kafka import ensure_topics, make_consumer, make_producer
from eventspine.projection import Projection
from eventspine.relay import Relay, RelayLease
from eventspine.schemas import installed_registry
from eventspine.store.postgres import PostgresEventStore, connect_pool

log = structlog.get_logger(__name__)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT, for a graceful stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


@asynccontextmanager
async def open_relay(settings: Settings, service: str) -> AsyncIterator[Relay]:
    """A started relay from ``service``'s PostgreSQL store to its topic (created if missing);
    its producer and store are closed on leaving.

    The relay carries its store's lease: :meth:`Relay.run` publishes only while it holds it, so
    a second relay process on the same store stands by and takes over when the first is gone.
    (:meth:`Relay.drain`, as the migration uses it, publishes once without the lease.)"""
    store = PostgresEventStore(
        settings.pg_dsn,
        service,
        installed_registry(),
        schema=settings.store_schema(service),
        pool_size=2,
    )
    topic = settings.topic(service)
    await ensure_topics(settings, [topic])
    producer = make_producer(settings)
    await store.open()
    await producer.start()
    relay = Relay(
        store,
        producer,
        topic,
        batch_size=settings.relay_batch_size,
        idle_seconds=settings.relay_idle_seconds,
        ack_timeout=settings.relay_ack_timeout_seconds,
        producer_factory=lambda: make_producer(settings),
        lease=RelayLease(settings.pg_dsn, store.schema),
    )
    try:
        yield relay
    finally:
        if relay.lease is not None:
            await relay.lease.release()
        await relay.producer.stop()  # the relay may have renewed its producer
        await store.close()


async def run_relay(settings: Settings, service: str, max_backoff: float = 30.0) -> None:
    """Relay ``service``'s PostgreSQL store to its topic until stopped by a signal.

    A relay that cannot open its store or its producer (the database or the broker is not
    there yet, or went away during the start) waits and tries again rather than exiting:
    nothing else would publish the events that keep being stored meanwhile."""
    stop = stop_on_signals()
    backoff = 0.5
    while not stop.is_set():
        try:
            async with open_relay(settings, service) as relay:
                await relay.run(stop, max_backoff)
        except Exception as exc:
            log.warning("relay.not_opened", service=service, error=repr(exc), seconds=backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(max_backoff, backoff * 2)


def load_object(reference: str) -> Any:
    """Import ``package.module:attribute``."""
    module_name, _, attribute = reference.partition(":")
    if not attribute:
        raise ValueError(f"expected 'module:attribute', got {reference!r}")
    return getattr(import_module(module_name), attribute)


async def run_projection(
    settings: Settings, factory: Callable[[], Projection], schema: str, *, rebuild: bool = False
) -> None:
    """Run a projection from Kafka into ``schema`` until stopped by a signal."""
    projection = factory()
    topics = [settings.topic(service) for service in projection.services]
    await ensure_topics(settings, topics)
    pool = await connect_pool(settings.pg_dsn, max_size=4)
    try:
        runner = ProjectionRunner(
            projection,
            pool,
            lambda group, names: make_consumer(settings, group, *names),
            topics,
            schema=schema,
            batch_size=settings.consumer_batch_size,
            group_prefix=settings.topic_prefix,
        )
        await runner.run(stop_on_signals(), rebuild=rebuild)
    finally:
        await pool.close()
