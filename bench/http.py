"""HTTP benchmarks driven by vegeta at fixed rates (open loop): ``POST /contacts`` on the
contacts service against a bare FastAPI + INSERT endpoint, with 1 and 2 uvicorn workers, and
the delay from a contact's HTTP answer to its row in the compliance view.

The highest rate a server sustains is found by stepping the rate: doubling from ``START`` until
a step fails (an error, a request not sent on schedule, or p99 above 200 ms), then halving the
interval between the last step that held and the first that failed twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench import vegeta
from bench.reports import _drop, _settings
from bench.servers import Pair, await_replica, bearer, contact, seed_links, servers
from bench.table import Row
from bench.vegeta import Attack, Target
from eventspine.config import Settings
from eventspine.kafka import ensure_topics, make_producer
from eventspine.store.postgres import connect_pool

START = 50
"""The first rate of a search (requests/s); then 100, 200, 400..."""
CEILING = 12_800
FIXED_RATES = (100, 200, 400)
"""The rates at which p50/p99 are reported for every server, and the chain's rates."""
LINKS = 200


@dataclass(frozen=True)
class Search:
    """Every step of one search, by rate, and the highest rate that held."""

    best: int
    steps: dict[int, Attack]

    @property
    def at_best(self) -> Attack | None:
        """The step at the highest rate that held."""
        return self.steps.get(self.best)


def _targets(url: str, settings: Settings, pairs: list[Pair]) -> Callable[[int], Iterator[Target]]:
    token = bearer(settings)

    def make(count: int) -> Iterator[Target]:
        for index in range(count):
            yield Target(
                f"{url}/contacts",
                contact(pairs[index % len(pairs)], uuid.uuid4()),
                {"Authorization": token, "Idempotency-Key": str(uuid.uuid4())},
            )

    return make


async def _search(
    tool: Path, make: Callable[[int], Iterator[Target]], seconds: float, also: tuple[int, ...]
) -> Search:
    steps: dict[int, Attack] = {}

    async def step(rate: int) -> bool:
        steps[rate] = await vegeta.attack(tool, make(int(rate * seconds)), rate, seconds)
        held = steps[rate].sustained
        # An overloaded server still works off what it accepted: let it finish first.
        await asyncio.sleep(0.5 if held else 3)
        return held

    await vegeta.attack(tool, make(int(START * 2)), START, 2)  # warm-up: pools, first imports
    best, rate = 0, START
    while rate <= CEILING and await step(rate):
        best, rate = rate, rate * 2
    failed = rate
    for _ in range(2):
        middle = (best + failed) // 2
        if middle in (best, failed):
            break
        if await step(middle):
            best = middle
        else:
            failed = middle
    for rate in also:
        if rate not in steps:
            await step(rate)
    return Search(best, steps)


async def _measure_all(
    settings: Settings, seconds: float, workers: tuple[int, ...]
) -> dict[tuple[str, int], Search]:
    tool = vegeta.binary()
    pairs = await seed_links(settings, LINKS)
    table = f"{settings.pg_schema_prefix}bare.contacts"
    pool = await connect_pool(settings.pg_dsn, max_size=1)
    await pool.execute(f"CREATE SCHEMA {settings.pg_schema_prefix}bare")
    await pool.execute(f"CREATE TABLE {table} (contact_id uuid PRIMARY KEY, data jsonb NOT NULL)")
    searches: dict[tuple[str, int], Search] = {}
    try:
        for count in workers:
            for name, app in (("ours", "contacts.main"), ("bare", "bench.bare_app")):
                async with servers(
                    settings, (app,), (), workers=count, extra_env={"BENCH_TABLE": table}
                ) as urls:
                    url = next(iter(urls.values()))
                    if name == "ours":
                        await await_replica(url, settings, pairs)
                    searches[name, count] = await _search(
                        tool, _targets(url, settings, pairs), seconds, FIXED_RATES
                    )
                    found = searches[name, count]
                    print(f"    {name}, {count} worker(s): {found.best}/s held", flush=True)
    finally:
        await _drop(pool, settings)
        await pool.close()
    return searches


def _latencies(step: Attack | None, prefix: str = "") -> dict[str, float]:
    if step is None:
        return {}
    return {f"{prefix}p50": step.p50, f"{prefix}p99": step.p99}


async def http_rows(dsn: str, bootstrap: str, seconds: float) -> list[Row]:
    """Rows 3: the highest rate with p99 <= 200 ms of the service and of the bare endpoint
    with 1 and 2 workers, the service's gain from the second worker, and p50/p99 of both at
    each of ``FIXED_RATES`` (one worker; two workers' in the row's detail)."""
    settings = _settings(dsn, bootstrap)
    found = await _measure_all(settings, seconds, (1, 2))
    how = f"vegeta open loop, {seconds:g} s per step"
    rows = []
    for count in (1, 2):
        ours, bare = found["ours", count], found["bare", count]
        rows.append(
            Row(
                "http_command" if count == 1 else f"http_command_{count}w",
                f"3. HTTP POST /contacts, highest rate with p99 <= 200 ms, uvicorn {count} "
                f"worker{'s' * (count > 1)} ({how})",
                "commands/s",
                ours.best,
                bare.best,
                "bare FastAPI + 1 INSERT",
                0.5,
                {**_latencies(ours.at_best), **_latencies(bare.at_best, "baseline_")},
            )
        )
    ours_1, ours_2 = found["ours", 1], found["ours", 2]
    bare_1, bare_2 = found["bare", 1], found["bare", 2]
    # What a second worker can add on this machine: the bare endpoint shares nothing between
    # its workers, so its own gain bounds the service's (the generator and PostgreSQL take
    # their part of the same cores).
    bare_gain = bare_2.best / bare_1.best if bare_1.best else 0.0
    rows.append(
        Row(
            "http_workers",
            "3. HTTP POST /contacts, 2 uvicorn workers vs 1 (highest rate with p99 <= 200 ms; "
            f"the bare endpoint's own gain on these cores: {bare_gain:.2f}x)"
            + ("" if ours_1.best else f"; 1 worker held no step, not even {START}/s"),
            "commands/s",
            ours_2.best,
            ours_1.best,
            "the service with 1 worker",
            1.6 if ours_1.best else None,  # no ratio to a rate that never held
            {"bare_2w_over_1w": bare_gain},
        )
    )
    for rate in FIXED_RATES:
        mine, theirs = ours_1.steps[rate], bare_1.steps[rate]
        rows.append(
            Row(
                f"http_at_{rate}",
                f"3. HTTP POST /contacts at {rate}/s fixed, uvicorn 1 worker "
                f"({theirs.success:.0%} / {mine.success:.0%} answered 2xx by bare / ours; "
                f"2 workers: ours p99 {ours_2.steps[rate].p99 * 1000:,.0f} ms)",
                "s",
                mine.p99,
                theirs.p99,
                "bare FastAPI + 1 INSERT",
                0.2,
                {
                    **_latencies(mine),
                    **_latencies(theirs, "baseline_"),
                    **_latencies(ours_2.steps[rate], "two_workers_"),
                    **_latencies(bare_2.steps[rate], "bare_two_workers_"),
                    "success": mine.success,
                },
            )
        )
    return rows


async def _watch(
    pool: asyncpg.Pool,
    table: str,
    ids: list[str],
    rate: int,
    seen: dict[str, float],
    expected: asyncio.Future[set[str]],
) -> None:
    """Note when each contact's row appears in the view (wall clock): ask every 10 ms for the
    contacts the schedule has sent by now and that are not seen yet; stop once every
    acknowledged one (``expected``, known when the attack is over) is seen, or 60 s after."""
    begun = time.time()
    deadline = float("inf")
    while time.time() < deadline:
        if expected.done():
            if expected.result() <= seen.keys():
                return
            deadline = min(deadline, time.time() + 60)
        sent = ids[: int((time.time() - begun) * rate) + rate // 2]
        pending = [c for c in sent if c not in seen]
        if pending:
            with contextlib.suppress(asyncpg.UndefinedTableError):
                rows = await pool.fetch(
                    f"SELECT contact_id::text FROM {table} WHERE contact_id::text = ANY($1)",
                    pending,
                )
                now = time.time()
                for row in rows:
                    seen.setdefault(row[0], now)
        await asyncio.sleep(0.01)


async def _chain_at(
    tool: Path, url: str, settings: Settings, pairs: list[Pair], rate: int, seconds: float
) -> tuple[list[float], Attack]:
    """The delays (s) from each contact's append (its event's ``recorded_at``, PostgreSQL's
    clock on this machine) to its row in the view, at ``rate``; a contact not acknowledged
    counts as never arriving (an infinite delay)."""
    pool = await connect_pool(settings.pg_dsn, max_size=2)
    token = bearer(settings)
    ids = [str(uuid.uuid4()) for _ in range(int(rate * seconds))]
    targets = [
        Target(
            f"{url}/contacts",
            contact(pairs[i % len(pairs)], uuid.UUID(c)),
            {"Authorization": token, "Idempotency-Key": str(uuid.uuid4())},
        )
        for i, c in enumerate(ids)
    ]
    seen: dict[str, float] = {}
    expected: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()
    view = f"{settings.store_schema('reports')}.r_contacts"
    watcher = asyncio.create_task(_watch(pool, view, ids, rate, seen, expected))
    try:
        result = await vegeta.attack(tool, targets, rate, seconds, bodies=True)
        acknowledged = set(acknowledged_ids(result))
        expected.set_result(acknowledged)
        await watcher
        appended = {
            row[0].removeprefix("contact-"): float(row[1])
            for row in await pool.fetch(
                "SELECT stream_id, extract(epoch FROM recorded_at) FROM "
                f"{settings.store_schema('contacts')}.events WHERE stream_id = ANY($1)",
                [f"contact-{c}" for c in acknowledged],
            )
        }
    finally:
        watcher.cancel()
        await pool.close()
    missing = [c for c in acknowledged if c not in seen]
    assert not missing, f"{len(missing)} acknowledged contacts never reached the view"
    delays = [max(0.0, seen[c] - appended[c]) for c in acknowledged]
    return sorted(delays) + [math.inf] * (len(ids) - len(delays)), result


def acknowledged_ids(result: Attack) -> Iterator[str]:
    """The contact id of each acknowledged contact, from its answer's body."""
    for answer in result.answers:
        if answer.code == 201:
            stream: str = json.loads(answer.body)["events"][0]["stream_id"]
            yield stream.removeprefix("contact-")


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile of sorted ``values`` (nearest rank)."""
    return values[min(len(values) - 1, max(0, int(len(values) * q) - 1))] if values else 0.0


async def chain_rows(dsn: str, bootstrap: str, seconds: float, workers: int = 1) -> list[Row]:
    """Rows 6: delay from a contact's append through the contacts relay, Kafka and the
    reports service's consumer to its row in the compliance view, at each of
    ``FIXED_RATES`` commands/s from vegeta; each against a raw produce -> consume at the same
    rate."""
    settings = _settings(dsn, bootstrap)
    tool = vegeta.binary()
    pairs = await seed_links(settings, LINKS)
    rows = []
    pool = await connect_pool(dsn, max_size=1)
    try:
        async with servers(settings, workers=workers) as urls:
            await await_replica(urls["contacts"], settings, pairs)
            measured = {}
            for rate in FIXED_RATES:
                measured[rate] = await _chain_at(
                    tool, urls["contacts"], settings, pairs, rate, seconds
                )
                await asyncio.sleep(1)
        for rate in FIXED_RATES:
            delays, result = measured[rate]
            floor = await raw_kafka_delay(settings, rate, int(seconds))
            rows.append(
                Row(
                    f"command_to_view_{rate}",
                    f"6. append -> relay -> consumer -> compliance view, {rate}/s for "
                    f"{seconds:g} s (sent {result.sent_rate:,.0f}/s, {result.success:.0%} "
                    f"acknowledged, HTTP p99 {result.p99 * 1000:,.0f} ms), "
                    f"uvicorn {workers} worker{'s' * (workers > 1)}",
                    "s",
                    quantile(delays, 0.99),
                    quantile(floor, 0.99),
                    "aiokafka produce -> consume",
                    1.0,
                    {
                        "p50": quantile(delays, 0.5),
                        "p99": quantile(delays, 0.99),
                        "rate": result.sent_rate,
                        "http_p99": result.p99,
                        "baseline_p50": statistics.median(floor),
                        "baseline_p99": quantile(floor, 0.99),
                    },
                )
            )
    finally:
        await _drop(pool, settings)
        await pool.close()
    return rows


async def raw_kafka_delay(settings: Settings, rate: int, seconds: int) -> list[float]:
    """The floor under rows 6: a raw producer sending at the same rate to a fresh topic, a raw
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
