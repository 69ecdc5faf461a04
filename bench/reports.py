"""Reports benchmarks: compliance rebuild from the topics, and command-to-view delay."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from access.principal import Principal
from access.tokens import TokenService
from bench.infra import ROOT
from bench.table import Row
from contacts.events import ContactMade
from eventspine.config import Settings
from eventspine.events import DomainEvent
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from eventspine.replica import kafka_feed
from eventspine.schemas import installed_registry
from eventspine.store.base import AppendRequest, CommandContext, EventStore
from eventspine.store.postgres import PostgresEventStore, connect_pool
from reports.projections import ComplianceProjection
from roster.events import MemberAssigned, MemberRegistered, UnitRegistered

CTX = CommandContext(actor="bench")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


def _settings(dsn: str, bootstrap: str) -> Settings:
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    return Settings(
        store_backend="postgres",
        pg_dsn=dsn,
        kafka_bootstrap=bootstrap,
        topic_prefix=prefix,
        pg_schema_prefix=f"{prefix}_",
    )


async def _append(store: EventStore, streams: dict[str, list[DomainEvent]]) -> list[Any]:
    return await store.append_many(
        [AppendRequest(stream, 0, events) for stream, events in streams.items()], CTX
    )


async def _synthetic_year(
    settings: Settings, links: int, per_link: int, *, publish: bool = True
) -> int:
    """Roster and contacts stores with ``links`` links and ``per_link`` contacts each."""
    registry = installed_registry()
    roster = PostgresEventStore(
        settings.pg_dsn, "roster", registry, schema=settings.store_schema("roster")
    )
    contacts = PostgresEventStore(
        settings.pg_dsn, "contacts", registry, schema=settings.store_schema("contacts")
    )
    await roster.open()
    await contacts.open()
    try:
        unit = uuid.uuid4()
        await _append(
            roster,
            {f"unit-{unit}": [UnitRegistered(unit_id=unit, name="bench", kind="city_federation")]},
        )
        reps = [uuid.uuid4() for _ in range(max(1, links // 10))]
        workers = [uuid.uuid4() for _ in range(links)]

        def registered(member: uuid.UUID, tier: str) -> MemberRegistered:
            return MemberRegistered.model_validate(
                {
                    "member_id": member,
                    "unit_id": unit,
                    "tier": tier,
                    "personal_data": "v1.x",
                    "number_index": "0" * 64,
                    "registered_on": "2025-01-01",
                }
            )

        for start in range(0, len(reps + workers), 200):
            chunk = (reps + workers)[start : start + 200]
            await _append(
                roster,
                {
                    f"member-{m}": [registered(m, "representative" if m in reps else "worker")]
                    for m in chunk
                },
            )
        link_ids: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = []
        for start in range(0, links, 200):
            chunk = workers[start : start + 200]
            recorded = await _append(
                roster,
                {
                    f"link-{w}": [
                        MemberAssigned(
                            member_id=w,
                            upper_member_id=reps[(start + i) % len(reps)],
                            tier="worker",
                            assigned_on=date(2025, 6, 1),
                        )
                    ]
                    for i, w in enumerate(chunk)
                },
            )
            link_ids += [
                (e.id, UUID(e.data["upper_member_id"]), UUID(e.data["member_id"])) for e in recorded
            ]
        made = [
            ContactMade(
                contact_id=uuid.uuid4(),
                link_id=link,
                upper_member_id=upper,
                lower_member_id=lower,
                contacted_on=date(2026, 1 + k % 11, 1 + k % 28),
                method="visit",
                initiated_by="upper",
            )
            for link, upper, lower in link_ids
            for k in range(per_link)
        ]
        for start in range(0, len(made), 500):
            await _append(
                contacts, {f"contact-{c.contact_id}": [c] for c in made[start : start + 500]}
            )
        total = await roster.head_position() + await contacts.head_position()
        if not publish:
            return total
        producer = make_producer(settings)
        await producer.start()
        try:
            for service, store in (("roster", roster), ("contacts", contacts)):
                await ensure_topics(settings, [settings.topic(service)])
                await Relay(store, producer, settings.topic(service)).drain()
        finally:
            await producer.stop()
        return total
    finally:
        await roster.close()
        await contacts.close()


async def _raw_read(settings: Settings, topics: list[str]) -> int:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(await consumer._client._wait_on_metadata(t) or [])
        ]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        count = 0
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            for records in (await consumer.getmany(timeout_ms=200, max_records=2000)).values():
                count += len(records)
        return count
    finally:
        await consumer.stop()


async def rebuild_vs_consumer(dsn: str, bootstrap: str, links: int, per_link: int) -> Row:
    """Rebuild the compliance projection from offset 0 vs a raw consumer of the same topics."""
    settings = _settings(dsn, bootstrap)
    total = await _synthetic_year(settings, links, per_link)
    topics = [settings.topic("roster"), settings.topic("contacts")]
    started = time.perf_counter()
    read = await _raw_read(settings, topics)
    raw = read / (time.perf_counter() - started)
    assert read == total, (read, total)
    schema = settings.store_schema("reports")
    pool = await connect_pool(dsn, max_size=4)
    try:
        # As the reports service runs it: every record checked against its event type, the
        # records it cannot apply sent to the dead-letter topics.
        feed = await kafka_feed(settings, ComplianceProjection(f"{schema}."), pool, schema)
        started = time.perf_counter()
        await feed.start()
        caught_up = await feed.catch_up(600)
        ours = total / (time.perf_counter() - started)
        await feed.stop()
        assert caught_up
    finally:
        await _drop(pool, settings)
        await pool.close()
    return Row(
        "rebuild",
        f"5. compliance rebuild from topics, {total:,} events",
        "events/s",
        ours,
        raw,
        "aiokafka consumer",
        0.3,
    )


async def _drop(pool: Any, settings: Settings) -> None:
    for row in await pool.fetch(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", settings.pg_schema_prefix + "%"
    ):
        await pool.execute(f"DROP SCHEMA {row[0]} CASCADE")


async def _seed_links(settings: Settings, count: int) -> list[tuple[UUID, UUID]]:
    """``count`` links (upper, lower) in a roster store, relayed to the roster topic, which the
    contacts service's roster replica consumes."""
    roster_store = PostgresEventStore(
        settings.pg_dsn, "roster", installed_registry(), schema=settings.store_schema("roster")
    )
    await roster_store.open()
    unit = uuid.uuid4()
    await _append(
        roster_store,
        {f"unit-{unit}": [UnitRegistered(unit_id=unit, name="bench", kind="city_federation")]},
    )
    pairs = [(uuid.uuid4(), uuid.uuid4()) for _ in range(count)]
    await _append(
        roster_store,
        {
            f"link-{lower}": [
                MemberAssigned(
                    member_id=lower,
                    upper_member_id=upper,
                    tier="worker",
                    assigned_on=date(2025, 6, 1),
                )
            ]
            for upper, lower in pairs
        },
    )
    producer = make_producer(settings)
    await producer.start()
    await ensure_topics(settings, [settings.topic("roster")])
    await Relay(roster_store, producer, settings.topic("roster")).drain()
    await producer.stop()
    await roster_store.close()
    return pairs


def _contact(upper: UUID, lower: UUID, contact_id: str | None = None) -> dict[str, str]:
    body = {
        "upper_member_id": str(upper),
        "lower_member_id": str(lower),
        "contacted_on": "2026-03-01",
        "method": "phone",
    }
    if contact_id is not None:
        body["contact_id"] = contact_id
    return body


def staff_headers(settings: Settings) -> dict[str, str]:
    """A federation staff token, as a signed-in client sends on every command."""
    principal = Principal(uuid.uuid4(), "admin")
    issued = datetime.now(UTC)
    token = TokenService(settings.auth_secret).issue(principal, issued, timedelta(hours=12))
    return {"Authorization": f"Bearer {token}"}


async def _await_replica(client: httpx.AsyncClient, pairs: list[tuple[UUID, UUID]]) -> None:
    """Wait until the contacts service's roster replica knows every seeded link."""
    for upper, lower in pairs:
        for _ in range(300):
            answer = await client.post("/contacts", json=_contact(upper, lower))
            if answer.status_code == 201:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"the replica never learnt link {lower}: {answer.text}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, *args], env=env, stdout=subprocess.DEVNULL, cwd=ROOT)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


@asynccontextmanager
async def _servers(
    settings: Settings,
    apps: tuple[str, ...] = ("contacts.main", "reports.main"),
    relays: tuple[str, ...] = ("contacts",),
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[dict[str, str]]:
    """Apps (uvicorn, one worker each: ``<module>:create_app``) and relays as separate processes;
    yields each app's base URL by its first module name."""
    env = {
        **os.environ,
        **(extra_env or {}),
        "SANLIAN_STORE_BACKEND": "postgres",
        "SANLIAN_PG_DSN": settings.pg_dsn,
        "SANLIAN_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "SANLIAN_TOPIC_PREFIX": settings.topic_prefix,
        "SANLIAN_PG_SCHEMA_PREFIX": settings.pg_schema_prefix,
    }
    urls: dict[str, str] = {}
    processes = []
    try:
        for module in apps:
            service = module.split(".")[0]
            port = _free_port()
            processes.append(
                _spawn(
                    [
                        "-m",
                        "uvicorn",
                        "--factory",
                        f"{module}:create_app",
                        "--port",
                        str(port),
                        "--log-level",
                        "warning",
                    ],
                    env=env,
                )
            )
            urls[service] = f"http://127.0.0.1:{port}"
        for relay in relays:
            processes.append(_spawn(["-m", "servicekit", "relay", "--service", relay], env))
        async with httpx.AsyncClient() as client:
            for url in urls.values():
                for _ in range(600):
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(f"{url}/health")).status_code == 200:
                            break
                    await asyncio.sleep(0.1)
        yield urls
    finally:
        _stop(processes)


async def command_to_view_delay(dsn: str, bootstrap: str, rate: int, seconds: int) -> Row:
    """Delay from a ContactMade's HTTP response to its row in the compliance projection, with
    contacts, its relay and reports each in its own process, at a steady command rate."""
    settings = _settings(dsn, bootstrap)
    pairs = await _seed_links(settings, 200)
    pool = await connect_pool(dsn, max_size=2)
    table = f"{settings.store_schema('reports')}.r_contacts"
    answered: dict[str, float] = {}
    seen: dict[str, float] = {}
    try:
        async with (
            _servers(settings) as urls,
            httpx.AsyncClient(
                base_url=urls["contacts"], timeout=30, headers=staff_headers(settings)
            ) as client,
        ):
            await _await_replica(client, pairs)
            stop = asyncio.Event()

            sent: set[str] = set()

            async def watch() -> None:
                # Ask only for contacts sent and not yet seen: a light query every 10 ms.
                while not stop.is_set() or len(seen) < len(sent):
                    pending = list(sent - seen.keys())
                    if pending:
                        with contextlib.suppress(asyncpg.UndefinedTableError):
                            for row in await pool.fetch(
                                f"SELECT contact_id FROM {table} WHERE contact_id = ANY($1)",
                                pending,
                            ):
                                seen.setdefault(str(row[0]), time.perf_counter())
                    await asyncio.sleep(0.01)
                    if stop.is_set() and time.perf_counter() > deadline:
                        return

            async def command(index: int) -> None:
                upper, lower = pairs[index % len(pairs)]
                contact_id = str(uuid.uuid4())
                sent.add(contact_id)
                answer = await client.post(
                    "/contacts",
                    json={
                        "contact_id": contact_id,
                        "upper_member_id": str(upper),
                        "lower_member_id": str(lower),
                        "contacted_on": "2026-03-01",
                        "method": "phone",
                    },
                )
                answered[contact_id] = time.perf_counter()
                assert answer.status_code == 201, answer.text

            deadline = float("inf")
            watcher = asyncio.create_task(watch())
            started = time.perf_counter()
            sends = []
            for index in range(rate * seconds):
                await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
                sends.append(asyncio.create_task(command(index)))
            await asyncio.gather(*sends)
            achieved = len(sends) / (time.perf_counter() - started)
            deadline = time.perf_counter() + 60
            stop.set()
            await watcher
        delays = sorted(max(0.0, seen[c] - t) for c, t in answered.items() if c in seen)
        missing = len(answered) - len(delays)
        assert not missing, f"{missing} contacts never reached the view"
        p99 = _quantile(delays, 0.99)
    finally:
        await _drop(pool, settings)
        await pool.close()
    floor = await _raw_kafka_delay(settings, rate, seconds)
    return Row(
        "command_to_view",
        f"6. HTTP response -> compliance view delay, {achieved:,.0f} commands/s for {seconds} s",
        "s",
        p99,
        _quantile(floor, 0.99),
        "aiokafka produce -> consume",
        1.0,
        {
            "p50": statistics.median(delays),
            "p99": p99,
            "rate": achieved,
            "baseline_p50": statistics.median(floor),
            "baseline_p99": _quantile(floor, 0.99),
        },
    )


async def _raw_kafka_delay(settings: Settings, rate: int, seconds: int) -> list[float]:
    """The floor under row 6: a raw producer sending at the same rate to a fresh topic, a raw
    consumer reading it; delay from the send's acknowledgement to the record's arrival."""
    topic = f"{settings.topic_prefix}.floor.events"
    await ensure_topics(settings, [topic])
    producer = make_producer(settings)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False
    )
    await producer.start()
    await consumer.start()
    acked: dict[bytes, float] = {}
    arrived: dict[bytes, float] = {}
    try:
        partitions = sorted(await producer.partitions_for(topic))
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for partition in partitions:  # leaders elected, positions fixed before timing
            await producer.send_and_wait(topic, b"{}", key=b"warm-up", partition=partition)
        for tp in tps:
            await consumer.position(tp)
        total = rate * seconds

        async def read() -> None:
            while len(arrived) < total:
                for records in (await consumer.getmany(timeout_ms=100)).values():
                    now = time.perf_counter()
                    for record in records:
                        if record.key != b"warm-up":
                            arrived[record.key] = now

        async def send(key: bytes) -> None:
            acked[key] = time.perf_counter()
            await producer.send_and_wait(topic, b"{}", key=key)

        reader = asyncio.create_task(read())
        started = time.perf_counter()
        sends = []
        for index in range(total):
            await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
            sends.append(asyncio.create_task(send(uuid.uuid4().bytes)))
        await asyncio.gather(*sends)
        await asyncio.wait_for(reader, 60)
    finally:
        await consumer.stop()
        await producer.stop()
    return sorted(max(0.0, arrived[k] - t) for k, t in acked.items())


async def replay_vs_raw_read(dsn: str, links: int, per_link: int) -> Row:
    """The auditor's replay (read the stores, decode, rebuild the compliance view) vs a raw
    read of the same event rows."""
    from audit.replay import replay
    from audit.sources import read_postgres
    from reports.bootstrap import contact_rule

    settings = _settings(dsn, "unused:9092")
    total = await _synthetic_year(settings, links, per_link, publish=False)
    pool = await connect_pool(dsn, max_size=2)
    try:
        started = time.perf_counter()
        read = 0
        for service in ("roster", "contacts"):
            rows = await pool.fetch(
                f"SELECT * FROM {settings.store_schema(service)}.events ORDER BY position"
            )
            read += len(rows)
        raw = read / (time.perf_counter() - started)
        started = time.perf_counter()
        history = await read_postgres(settings, ("roster", "contacts"))
        await replay(history, installed_registry(), contact_rule(settings), "2026")
        ours = total / (time.perf_counter() - started)
    finally:
        await _drop(pool, settings)
        await pool.close()
    return Row(
        "replay",
        f"7. auditor replay into compliance, {total:,} events",
        "events/s",
        ours,
        raw,
        "asyncpg SELECT of the rows",
        None,
    )


async def _drive(
    client: httpx.AsyncClient, bodies: list[dict[str, str]], clients: int
) -> tuple[float, list[float]]:
    """POST every body with ``clients`` concurrent clients; the rate and each latency."""
    latencies: list[float] = []
    queue = iter(bodies)

    async def one_client() -> None:
        for body in queue:
            started = time.perf_counter()
            answer = await client.post("/contacts", json=body)
            latencies.append(time.perf_counter() - started)
            assert answer.status_code == 201, answer.text

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return len(bodies) / (time.perf_counter() - started), sorted(latencies)


def _quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, max(0, int(len(values) * q) - 1))]


async def http_vs_bare(dsn: str, bootstrap: str, requests: int, clients: int = 32) -> Row:
    """``POST /contacts`` (ContactMade) on the contacts service, uvicorn with one worker, vs a
    bare FastAPI endpoint doing one INSERT per request; ``clients`` concurrent clients each."""
    settings = _settings(dsn, bootstrap)
    pairs = await _seed_links(settings, 200)
    table = f"{settings.pg_schema_prefix}bare.contacts"
    pool = await connect_pool(dsn, max_size=1)
    await pool.execute(f"CREATE SCHEMA {settings.pg_schema_prefix}bare")
    await pool.execute(f"CREATE TABLE {table} (contact_id uuid PRIMARY KEY, data jsonb NOT NULL)")
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    measured: dict[str, tuple[float, list[float]]] = {}
    warm = max(clients * 4, requests // 10)

    def bodies(count: int) -> list[dict[str, str]]:
        return [
            _contact(*pairs[i % len(pairs)], contact_id=str(uuid.uuid4())) for i in range(count)
        ]

    try:
        for name, app in (("ours", "contacts.main"), ("bare", "bench.bare_app")):
            async with (
                _servers(settings, (app,), (), {"BENCH_TABLE": table}) as urls,
                httpx.AsyncClient(
                    base_url=next(iter(urls.values())),
                    timeout=60,
                    limits=limits,
                    headers=staff_headers(settings),
                ) as client,
            ):
                if name == "ours":
                    await _await_replica(client, pairs)
                await _drive(client, bodies(warm), clients)  # warm-up
                measured[name] = await _drive(client, bodies(requests), clients)
    finally:
        await _drop(pool, settings)
        await pool.close()
    (ours, mine), (bare, theirs) = measured["ours"], measured["bare"]
    return Row(
        "http_command",
        f"3. HTTP POST /contacts (ContactMade), uvicorn 1 worker, {clients} clients, "
        f"{requests:,} requests",
        "commands/s",
        ours,
        bare,
        "bare FastAPI + 1 INSERT",
        0.4,
        {
            "p50": statistics.median(mine),
            "p99": _quantile(mine, 0.99),
            "baseline_p50": statistics.median(theirs),
            "baseline_p99": _quantile(theirs, 0.99),
        },
    )


async def rebuild_growth(
    dsn: str, bootstrap: str, links: int, scales: tuple[int, ...]
) -> list[Row]:
    """Row 5 as the topics grow: the rebuild rate at ``scale`` times the data vs at 1x."""
    base = await rebuild_vs_consumer(dsn, bootstrap, links=links, per_link=6)
    rows = []
    for scale in scales:
        grown = await rebuild_vs_consumer(dsn, bootstrap, links=links * scale, per_link=6)
        events = grown.workload.split(", ")[-1]
        rows.append(
            Row(
                f"growth_rebuild_{scale}x",
                f"8. growth: compliance rebuild at {scale}x, {events}",
                "events/s",
                grown.ours,
                base.ours,
                f"same at 1x ({base.workload.split(', ')[-1]})",
                0.8,
                {"raw_consumer": grown.baseline},
            )
        )
    return rows
