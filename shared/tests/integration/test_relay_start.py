"""A relay process started while its broker is unreachable waits instead of exiting, and
publishes everything once the broker answers (a real process, real PostgreSQL, real Kafka).

The broker is "unreachable" because the relay's bootstrap address is a port nobody listens on;
it "comes up" when the test opens a TCP forwarder on that port to the real broker (the broker's
metadata then sends the relay on to the broker's own address)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from eventspine.config import Settings
from eventspine.events import EventRegistry
from eventspine.store.base import NO_STREAM, CommandContext
from eventspine.store.postgres import PostgresEventStore
from support.kafka_read import read_topic
from support.own_servers import free_port
from support.pg import throwaway_prefix
from support.processes import spawn, stop, wait_until
from support.sample import assigned

pytestmark = pytest.mark.integration


@pytest.fixture
async def prefix(pg_dsn: str) -> AsyncIterator[str]:
    """A schema prefix unique to the test; its schemas are dropped afterwards."""
    async with throwaway_prefix(pg_dsn, "s") as value:
        yield value


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@contextlib.asynccontextmanager
async def forwarder(port: int, target: str) -> AsyncIterator[None]:
    """Accept on ``port`` and pass every connection on to ``target`` (host:port)."""
    host, _, target_port = target.rpartition(":")

    async def connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(target_port))
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    server = await asyncio.start_server(connect, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()


async def test_a_relay_started_before_its_broker_waits_and_then_publishes_everything(
    pg_dsn: str, kafka_bootstrap: str, prefix: str, registry: EventRegistry, tmp_path: Path
) -> None:
    port = free_port()
    settings = Settings(
        pg_dsn=pg_dsn,
        kafka_bootstrap=f"127.0.0.1:{port}",
        topic_prefix=f"test.{prefix.rstrip('_')}",
        pg_schema_prefix=prefix,
    )
    store = PostgresEventStore(pg_dsn, "roster", registry, schema=settings.store_schema("roster"))
    await store.open()
    try:
        await store.append("member-1", NO_STREAM, [assigned(), assigned()], CommandContext("t"))
        log = tmp_path / "relay.log"
        relay = spawn(
            ["relay", "--service", "roster"],
            {
                "SANLIAN_PG_DSN": pg_dsn,
                "SANLIAN_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
                "SANLIAN_TOPIC_PREFIX": settings.topic_prefix,
                "SANLIAN_PG_SCHEMA_PREFIX": prefix,
            },
            log,
        )
        try:

            async def retried_twice() -> bool:
                return log.read_text(errors="replace").count("relay.not_opened") >= 2

            await wait_until(retried_twice, 60, "two attempts to open the relay", relay, log)
            assert await store.load_checkpoint(f"relay:{settings.topic('roster')}") == 0

            async with forwarder(port, kafka_bootstrap):

                async def published() -> bool:
                    return await store.load_checkpoint(f"relay:{settings.topic('roster')}") == 2

                await wait_until(published, 90, "the relay to publish", relay, log)
            records = await read_topic(kafka_bootstrap, settings.topic("roster"))
            assert sum(len(part) for part in records.values()) == 2
        finally:
            stop(relay)
        assert relay.returncode == 0, log.read_text(errors="replace")[-3000:]
    finally:
        await store.close()
