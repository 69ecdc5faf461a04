"""One active relay per store, a standby beside it that takes over (real processes, real
PostgreSQL, real Kafka).

Two ``python -m servicekit relay`` processes run on one store. Only the one holding the store's
lease (a session advisory lock) publishes; when it is killed with SIGKILL or its lease session
is cut with ``pg_terminate_backend``, the other one takes over from the checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from eventspine.config import Settings
from eventspine.envelope import RecordedEvent
from eventspine.events import EventRegistry
from eventspine.store.base import NO_STREAM, CommandContext
from eventspine.store.postgres import PostgresEventStore
from support.kafka_read import read_topic
from support.pg import throwaway_prefix
from support.processes import kill, spawn, stop, wait_until
from support.sample import assigned

pytestmark = pytest.mark.integration

CTX = CommandContext("staff:test")
TAKEOVER_SECONDS = 5.0
"""The bound on a takeover: from the active relay's death (or its cut session) until the
standby says it is active. PostgreSQL ends the session at once (the killed process's socket is
closed by its kernel) and the standby tries the lock every 0.25 s, so it is about a second."""


@pytest.fixture
async def settings(pg_dsn: str, kafka_bootstrap: str) -> AsyncIterator[Settings]:
    """Settings with schemas and topics unique to the test; the schemas are dropped afterwards."""
    async with throwaway_prefix(pg_dsn, "l") as prefix:
        yield Settings(
            pg_dsn=pg_dsn,
            kafka_bootstrap=kafka_bootstrap,
            topic_prefix=f"test.{prefix.rstrip('_')}",
            pg_schema_prefix=prefix,
        )


@pytest.fixture
async def store(settings: Settings, registry: EventRegistry) -> AsyncIterator[PostgresEventStore]:
    """The roster store the relays publish."""
    opened = PostgresEventStore(
        settings.pg_dsn, "roster", registry, schema=settings.store_schema("roster")
    )
    await opened.open()
    yield opened
    await opened.close()


@contextlib.contextmanager
def two_relays(
    settings: Settings, tmp_path: Path
) -> Iterator[list[tuple[subprocess.Popen[bytes], Path]]]:
    """Two relay processes on the roster store, each with its log; stopped on leaving."""
    env = {
        "SANLIAN_PG_DSN": settings.pg_dsn,
        "SANLIAN_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "SANLIAN_TOPIC_PREFIX": settings.topic_prefix,
        "SANLIAN_PG_SCHEMA_PREFIX": settings.pg_schema_prefix,
    }
    relays: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for name in ("a", "b"):
            log = tmp_path / f"relay-{name}.log"
            relays.append((spawn(["relay", "--service", "roster"], env, log), log))
        yield relays
    finally:
        for process, _ in relays:
            if process.poll() is None:
                stop(process)


def _said(log: Path, event: str) -> int:
    return log.read_text(errors="replace").count(event)


async def _both_started(relays: list[tuple[subprocess.Popen[bytes], Path]]) -> None:
    for process, log in relays:

        async def started(log: Path = log) -> bool:
            return _said(log, "relay.started") >= 1

        await wait_until(started, 60, "the relay to start", process, log)


async def _active_and_standby(
    relays: list[tuple[subprocess.Popen[bytes], Path]],
) -> tuple[tuple[subprocess.Popen[bytes], Path], tuple[subprocess.Popen[bytes], Path]]:
    """The relay holding the lease and the one standing by, as their logs say."""

    async def decided() -> bool:
        return sorted(
            (_said(log, "relay.active"), _said(log, "relay.standby")) for _, log in relays
        ) == [
            (0, 1),
            (1, 0),
        ]

    await wait_until(decided, 30, "one relay active and one standby", relays[0][0], relays[0][1])
    first, second = relays
    return (first, second) if _said(first[1], "relay.active") else (second, first)


async def _append(store: PostgresEventStore, streams: range, per_stream: int) -> None:
    for stream in streams:
        await store.append(
            f"member-{stream}", NO_STREAM, [assigned() for _ in range(per_stream)], CTX
        )


async def _published_up_to(store: PostgresEventStore, settings: Settings, seconds: float) -> int:
    head = await store.head_position()
    name = f"relay:{settings.topic('roster')}"

    async def published() -> bool:
        return await store.load_checkpoint(name) >= head

    await wait_until(published, seconds, f"the relays to publish up to position {head}")
    return head


async def _positions(settings: Settings) -> dict[int, list[int]]:
    """Every record's position on the roster topic, per partition in offset order."""
    records = await read_topic(settings.kafka_bootstrap, settings.topic("roster"))
    return {
        partition: [RecordedEvent.from_kafka(r.headers, r.value).position for r in items]
        for partition, items in records.items()
    }


def _applied(positions: dict[int, list[int]]) -> list[int]:
    """What a consumer applies: per partition, a record only if its position is above the last
    one applied there (eventspine.consumer's rule for duplicates)."""
    applied: list[int] = []
    for items in positions.values():
        last = 0
        for position in items:
            if position > last:
                applied.append(position)
                last = position
    return sorted(applied)


def _assert_once_in_order(positions: dict[int, list[int]], head: int) -> None:
    everything = [p for items in positions.values() for p in items]
    twice = sorted(p for p, n in Counter(everything).items() if n > 1)
    assert not twice, f"published more than once: {twice[:20]} ({len(twice)} positions)"
    assert sorted(everything) == list(range(1, head + 1))
    for items in positions.values():
        assert items == sorted(items)


async def test_of_two_relays_on_one_store_only_one_publishes(
    settings: Settings, store: PostgresEventStore, tmp_path: Path
) -> None:
    await _append(store, range(4), 5)
    with two_relays(settings, tmp_path) as relays:
        await _both_started(relays)
        await _append(store, range(4, 12), 5)  # while both run
        head = await _published_up_to(store, settings, 60)
        await asyncio.sleep(1.0)  # time for a second publisher, if there were one, to send
        _assert_once_in_order(await _positions(settings), head)
        assert head == 60
        await _active_and_standby(relays)


async def test_the_standby_takes_over_when_the_active_relay_is_killed(
    settings: Settings, store: PostgresEventStore, tmp_path: Path
) -> None:
    with two_relays(settings, tmp_path) as relays:
        await _both_started(relays)
        await _append(store, range(3), 10)
        before = await _published_up_to(store, settings, 60)
        _assert_once_in_order(await _positions(settings), before)
        (active, _), (standby, standby_log) = await _active_and_standby(relays)

        async def writer(seconds: float) -> None:
            deadline = time.monotonic() + seconds
            versions = [0] * 5
            while time.monotonic() < deadline:
                for stream in range(5):
                    await store.append(f"late-{stream}", versions[stream], [assigned()], CTX)
                    versions[stream] += 1
                await asyncio.sleep(0.01)

        writing = asyncio.create_task(writer(3.0))
        await asyncio.sleep(1.0)
        kill(active)  # while events keep being appended and published
        killed_at = time.monotonic()

        async def took_over() -> bool:
            return _said(standby_log, "relay.active") >= 1

        await wait_until(
            took_over, TAKEOVER_SECONDS, "the standby to take over", standby, standby_log
        )
        takeover = time.monotonic() - killed_at
        await writing
        head = await _published_up_to(store, settings, 10)
        assert head > before + 50
        positions = await _positions(settings)
        assert _applied(positions) == list(range(1, head + 1))  # every position once, none lost
        assert takeover < TAKEOVER_SECONDS
        assert standby.poll() is None


async def _cut_lease_session(dsn: str, schema: str) -> None:
    """``pg_terminate_backend`` of the session holding the relay lease on ``schema``."""
    conn: Any = await asyncpg.connect(dsn)
    try:
        pids = await conn.fetch(
            "SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1",
            f"sanlian-relay-lease:{schema}",
        )
        assert len(pids) == 1, pids
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pids[0]["pid"])
    finally:
        await conn.close()


async def test_a_relay_whose_lease_session_is_cut_stops_and_the_other_takes_over(
    settings: Settings, store: PostgresEventStore, tmp_path: Path
) -> None:
    with two_relays(settings, tmp_path) as relays:
        await _both_started(relays)
        await _append(store, range(4), 5)
        before = await _published_up_to(store, settings, 60)
        _assert_once_in_order(await _positions(settings), before)
        (cut, cut_log), (other, other_log) = await _active_and_standby(relays)

        await _cut_lease_session(settings.pg_dsn, store.schema)

        async def stopped() -> bool:
            return _said(cut_log, "relay.lease_lost") >= 1

        async def took_over() -> bool:
            return _said(other_log, "relay.active") >= 1

        async def standing_by() -> bool:
            return _said(cut_log, "relay.standby") >= 1

        await wait_until(stopped, TAKEOVER_SECONDS, "the cut relay to stop", cut, cut_log)
        await wait_until(took_over, TAKEOVER_SECONDS, "the other to take over", other, other_log)
        await wait_until(standing_by, TAKEOVER_SECONDS, "the cut relay to stand by", cut, cut_log)
        await _append(store, range(4, 10), 5)
        head = await _published_up_to(store, settings, 30)
        await asyncio.sleep(1.0)
        assert head == 50
        _assert_once_in_order(await _positions(settings), head)
        assert _said(cut_log, "relay.active") == 1  # it did not win the lease back
        assert cut.poll() is None
        assert other.poll() is None
