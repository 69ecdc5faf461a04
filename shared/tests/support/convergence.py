"""After a fault: wait until everything caught up, then measure what was lost or doubled.

The chain of evidence, link by link:

* every event a command's answer named is in its service's store (acknowledged ⊆ stored);
* ``sanlian-audit verify --source both`` finds nothing (stored = published, chains intact);
* every Kafka-fed projection equals a rebuild of it from offset 0 (view = f(topic));
* the reports' views count exactly what the stores hold (no loss, no double count).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contacts.replica import RosterReplica as ContactsRosterReplica
from eventspine.config import Settings
from eventspine.consumer import ProjectionRunner
from eventspine.crypto import PersonalDataVault, PostgresKeyStore
from eventspine.deadletter import KafkaDeadLetters
from eventspine.kafka import make_consumer, make_producer
from eventspine.projection import Projection
from eventspine.schemas import installed_registry
from feedback.replica import RosterReplica as FeedbackRosterReplica
from reports.projections import ComplianceProjection, SuggestionProjection
from reports.projections.compliance import TABLES as COMPLIANCE_TABLES
from reports.projections.suggestions import TABLES as SUGGESTION_TABLES
from support import tally
from support.auth import STAFF
from support.load import Ledger, held_rate, p99
from support.own_servers import ROOT
from support.tally import ScenarioResult
from support.topology import RELAYS, Topology, settings_env

ProjectionFactory = Callable[[str, PersonalDataVault], Projection]

FED_FROM_KAFKA: dict[str, list[ProjectionFactory]] = {
    "reports": [
        lambda p, _: ComplianceProjection(p),
        lambda p, _: SuggestionProjection(p),
    ],
    "contacts": [lambda p, vault: ContactsRosterReplica(vault, p)],
    "feedback": [lambda p, _: FeedbackRosterReplica(p)],
}
"""Every projection a service feeds from Kafka, by the service (whose schema holds it)."""

PROJECTION_TABLES = {
    "reports": [*COMPLIANCE_TABLES, *SUGGESTION_TABLES],
    "contacts": ["replica_links"],
    "feedback": ["replica_members"],
}
"""The tables those projections write, by service."""


async def projection_rows(pool: asyncpg.Pool, settings: Settings) -> dict[str, list[Any]]:
    """Every row of every Kafka-fed projection, sorted, by ``service.table``."""
    rows: dict[str, list[Any]] = {}
    for service, tables in PROJECTION_TABLES.items():
        schema = settings.store_schema(service)
        for table in tables:
            found = await pool.fetch(f"SELECT * FROM {schema}.{table}")
            rows[f"{service}.{table}"] = sorted(tuple(map(str, row.values())) for row in found)
    return rows


def changed_rows(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> int:
    """Rows present in one snapshot and not the other (counted with multiplicity)."""
    changed = 0
    for table in before.keys() | after.keys():
        old, new = Counter(before.get(table, [])), Counter(after.get(table, []))
        changed += sum(((old - new) + (new - old)).values())
    return changed


@asynccontextmanager
async def topic_ends(bootstrap: str) -> AsyncIterator[Callable[[list[str]], Any]]:
    """A function giving ``{partition: end offset}`` of topics (a consumer without a group)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()

    async def ends(topics: list[str]) -> dict[TopicPartition, int]:
        partitions = []
        for topic in topics:
            found = consumer.partitions_for_topic(topic)
            if not found:
                await consumer._client.force_metadata_update()
                found = consumer.partitions_for_topic(topic) or set()
            partitions += [TopicPartition(topic, p) for p in sorted(found)]
        result: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        return result

    try:
        yield ends
    finally:
        await consumer.stop()


async def _behind(pool: asyncpg.Pool, settings: Settings, ends: Any) -> list[str]:
    """What has not caught up yet: relays behind their store, projections behind their topics."""
    late = []
    for service in RELAYS:
        schema = settings.store_schema(service)
        head = await pool.fetchval(f"SELECT coalesce(max(position), 0) FROM {schema}.events")
        published = await pool.fetchval(
            f"SELECT coalesce(max(position), 0) FROM {schema}.checkpoints WHERE name = $1",
            f"relay:{settings.topic(service)}",
        )
        if published < head:
            late.append(f"relay {service} at {published} of {head}")
    for service, factories in FED_FROM_KAFKA.items():
        schema = settings.store_schema(service)
        for factory in factories:
            projection = factory("", _NO_VAULT)
            topics = [settings.topic(s) for s in projection.services]
            stored = {
                (r[0], r[1]): r[2]
                for r in await pool.fetch(
                    f"SELECT topic, partition, next_offset FROM {schema}.projection_offsets "
                    "WHERE projection = $1",
                    projection.name,
                )
            }
            for tp, end in (await ends(topics)).items():
                if stored.get((tp.topic, tp.partition), 0) < end:
                    late.append(f"{projection.name} on {tp.topic}/{tp.partition}")
    return late


_NO_VAULT: Any = None  # naming a projection needs no vault


async def wait_converged(
    pool: asyncpg.Pool,
    settings: Settings,
    seconds: float = 180,
    topology: Topology | None = None,
) -> float:
    """Wait until every relay published its whole store and every projection consumed its
    topics to the end; return how long it took.

    Given the ``topology``, a failure carries the end of every process's log, so a scenario
    that did not converge says why."""
    started = time.monotonic()
    async with topic_ends(settings.kafka_bootstrap) as ends:
        while late := await _behind(pool, settings, ends):
            if time.monotonic() - started > seconds:
                logs = (
                    ""
                    if topology is None
                    else "".join(
                        f"\n--- {name} (running: {topology.alive(name)}) ---\n{topology.tail(name)}"
                        for name in topology.names
                    )
                )
                raise AssertionError(f"not converged after {seconds} s: {late}{logs}")
            await asyncio.sleep(0.5)
    return time.monotonic() - started


async def missing_acknowledged(pool: asyncpg.Pool, settings: Settings, ledger: Ledger) -> int:
    """Events a command's answer named that its service's store does not hold."""
    missing = 0
    for service in {a.service for a in ledger.acknowledged.values()}:
        ids = [
            uuid.UUID(e)
            for a in ledger.acknowledged.values()
            if a.service == service
            for e in a.event_ids
        ]
        found = await pool.fetchval(
            f"SELECT count(*) FROM {settings.store_schema(service)}.events "
            "WHERE event_id = ANY($1::uuid[])",
            ids,
        )
        missing += len(set(ids)) - int(found)
    return missing


async def unpublished(pool: asyncpg.Pool, settings: Settings) -> int:
    """Events stored but not yet acknowledged by the broker, over the three stores."""
    total = 0
    for service in RELAYS:
        schema = settings.store_schema(service)
        head = await pool.fetchval(f"SELECT coalesce(max(position), 0) FROM {schema}.events")
        published = await pool.fetchval(
            f"SELECT coalesce(max(position), 0) FROM {schema}.checkpoints WHERE name = $1",
            f"relay:{settings.topic(service)}",
        )
        total += int(head) - int(published)
    return total


async def stored_events(pool: asyncpg.Pool, settings: Settings) -> int:
    """Events in the three stores."""
    total = 0
    for service in RELAYS:
        total += int(
            await pool.fetchval(f"SELECT count(*) FROM {settings.store_schema(service)}.events")
        )
    return total


def audit_verify(settings: Settings) -> subprocess.CompletedProcess[str]:
    """``sanlian-audit verify --source both`` on the topology's stores and topics."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("sanlian-audit")), "verify", "--source", "both"],
        env={**os.environ, **settings_env(settings)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass
class ViewCheck:
    """The views against the stores: what they miss and what they count twice."""

    lost: int
    doubled: int
    details: list[str]


async def views_against_stores(
    pool: asyncpg.Pool, settings: Settings, topology: Topology
) -> ViewCheck:
    """Compare the reports' answers with counts taken straight from the event stores."""
    contacts = settings.store_schema("contacts")
    feedback = settings.store_schema("feedback")
    roster = settings.store_schema("roster")
    truth_per_link = {
        r[0]: int(r[1])
        for r in await pool.fetch(
            f"SELECT data->>'link_id', count(*) FROM {contacts}.events "
            "WHERE event_type = 'ContactMade' GROUP BY 1"
        )
    }
    raised = int(
        await pool.fetchval(
            f"SELECT count(*) FROM {feedback}.events WHERE event_type = 'SuggestionRaised'"
        )
    )
    unlinked = int(
        await pool.fetchval(
            f"SELECT count(*) FROM {roster}.events r WHERE r.event_type = 'MemberRegistered' "
            "AND r.data->>'tier' <> 'leader' AND NOT EXISTS (SELECT 1 FROM "
            f"{roster}.events a WHERE a.event_type = 'MemberAssigned' "
            "AND a.data->>'member_id' = r.data->>'member_id')"
        )
    )
    async with httpx.AsyncClient(base_url=topology.url("reports"), timeout=30) as client:
        answer = await client.get(
            "/compliance", params={"period": "2026", "limit": 500}, headers=STAFF
        )
        assert answer.status_code == 200, answer.text
        counted = {row["link_id"]: int(row["counted"]) for row in answer.json()["data"]}
        queue = await client.get("/escalation-queue", params={"limit": 1}, headers=STAFF)
        assert queue.status_code == 200, queue.text
        exposure = await client.get("/compliance/exposure", headers=STAFF)
        assert exposure.status_code == 200, exposure.text
    pairs = [
        (f"link {link}", truth_per_link.get(link, 0), counted.get(link, 0))
        for link in set(truth_per_link) | set(counted)
    ]
    pairs.append(("open suggestions", raised, int(queue.json()["count"])))
    pairs.append(("unlinked members", unlinked, len(exposure.json()["unlinked"])))
    lost = sum(max(0, truth - seen) for _, truth, seen in pairs)
    doubled = sum(max(0, seen - truth) for _, truth, seen in pairs)
    details = [
        f"{what}: stored {truth}, shown {seen}" for what, truth, seen in pairs if truth != seen
    ]
    return ViewCheck(lost, doubled, details)


async def rebuild_differences(pool: asyncpg.Pool, settings: Settings) -> dict[str, int]:
    """Rebuild every Kafka-fed projection from offset 0 into a fresh schema and count, per
    table, the rows that differ from the live one (either way)."""
    differences: dict[str, int] = {}
    tag = uuid.uuid4().hex[:6]
    producer = make_producer(settings, "check-dead-letters")
    await producer.start()
    try:
        for service, factories in FED_FROM_KAFKA.items():
            await _rebuild_and_compare(
                pool, settings, service, factories, producer, tag, differences
            )
    finally:
        await producer.stop()
    return differences


async def _rebuild_and_compare(
    pool: asyncpg.Pool,
    settings: Settings,
    service: str,
    factories: list[ProjectionFactory],
    producer: AIOKafkaProducer,
    tag: str,
    differences: dict[str, int],
) -> None:
    """Rebuild one service's Kafka-fed projections beside the live ones; count differing rows."""
    live = settings.store_schema(service)
    rebuilt = f"{live}_check{tag}"
    keys = PostgresKeyStore(pool, f"{rebuilt}_keys")
    await keys.open()
    vault = PersonalDataVault(keys)
    for factory in factories:
        projection = factory(f"{rebuilt}.", vault)
        # Run as the services run it: events checked, what cannot be applied set aside.
        runner = ProjectionRunner(
            projection,
            pool,
            lambda group, names: make_consumer(settings, group, *names),
            [settings.topic(s) for s in projection.services],
            schema=rebuilt,
            group_prefix=f"{settings.topic_prefix}.check{tag}",
            registry=installed_registry(),
            dead_letters=KafkaDeadLetters(producer),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop, rebuild=True))
        deadline = time.monotonic() + 180
        while await runner.behind():
            if task.done() or time.monotonic() > deadline:
                stop.set()
                await task
                raise AssertionError(f"the rebuild of {projection.name} did not catch up")
            await asyncio.sleep(0.2)
        stop.set()
        await task
    for table in await pool.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 "
        "AND table_name <> 'projection_offsets'",
        rebuilt,
    ):
        name = table[0]
        differing = await pool.fetchval(
            f"SELECT (SELECT count(*) FROM (SELECT * FROM {live}.{name} EXCEPT ALL "
            f"SELECT * FROM {rebuilt}.{name}) a) + (SELECT count(*) FROM (SELECT * FROM "
            f"{rebuilt}.{name} EXCEPT ALL SELECT * FROM {live}.{name}) b)"
        )
        differences[f"{service}.{name}"] = int(differing)


@dataclass
class Measured:
    """A scenario's outcome after convergence, recorded in the tier's report."""

    result: ScenarioResult
    audit: subprocess.CompletedProcess[str] | None
    rebuild: dict[str, int]
    views: ViewCheck


def _load_figures(ledger: Ledger, notes: dict[str, object]) -> dict[str, object]:
    """The load offered and held, and its p99 from when each command was due, over the whole
    scenario (a scenario that reports its own windows has them already)."""
    if not ledger.acknowledged or "p99 s overall" in notes:
        return {}
    began = min(a.due for a in ledger.acknowledged.values())
    last = max(a.due for a in ledger.acknowledged.values())
    return {
        "offered /s": ledger.offered,
        "held /s": round(held_rate(ledger, began, last), 1),
        "p99 s": round(p99(ledger, began, last) or 0.0, 3),
    }


async def settle_and_measure(
    name: str,
    pool: asyncpg.Pool,
    topology: Topology,
    ledger: Ledger,
    notes: dict[str, object] | None = None,
    *,
    audit_expected_clean: bool = True,
) -> Measured:
    """Wait for convergence, run every check, and add the scenario's figures to the report.

    ``audit_expected_clean=False``: hostile records were put on a topic on purpose, which the
    audit rightly reports; it is not run."""
    settings = topology.settings
    waited = await wait_converged(pool, settings, topology=topology)
    missing = await missing_acknowledged(pool, settings, ledger)
    views = await views_against_stores(pool, settings, topology)
    audit = await asyncio.to_thread(audit_verify, settings) if audit_expected_clean else None
    rebuild = await rebuild_differences(pool, settings)
    result = tally.record(
        ScenarioResult(
            name,
            commands_sent=ledger.sent,
            commands_acknowledged=len(ledger.acknowledged),
            events_checked=await stored_events(pool, settings),
            events_lost=missing + views.lost,
            duplicates_visible=views.doubled,
            notes={
                **_load_figures(ledger, notes or {}),
                **(notes or {}),
                "converged in s": round(waited, 1),
                "audit verify": (
                    "not run (hostile records on the topic)"
                    if audit is None
                    else "clean"
                    if audit.returncode == 0
                    else f"exit {audit.returncode}"
                ),
                "rows unlike a rebuild": sum(rebuild.values()),
            },
        )
    )
    return Measured(result, audit, rebuild, views)


def assert_clean(measured: Measured, ledger: Ledger) -> None:
    """Nothing lost, nothing doubled, audit clean, projections equal to their rebuilds, and no
    client got an answer it should never get."""
    assert ledger.faults == [], ledger.faults[:20]
    assert ledger.unfinished == [], ledger.unfinished[:20]
    assert measured.result.events_lost == 0, measured.views.details
    assert measured.result.duplicates_visible == 0, measured.views.details
    if measured.audit is not None:
        audit = measured.audit
        assert audit.returncode == 0, audit.stdout[-4000:] + audit.stderr
    assert not any(measured.rebuild.values()), measured.rebuild
