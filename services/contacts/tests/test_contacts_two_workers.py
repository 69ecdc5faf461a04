"""The contacts service served by two worker processes on one PostgreSQL store, as the full
topology scales it out: the store's group commit, the idempotency guard and the relay stay
correct across processes.

Many concurrent ``POST /contacts`` go to both processes, each request sent to both at once under
one ``Idempotency-Key`` (and later retried), and corrections of the same contacts race each
other from both. Every acknowledged contact is then in the store once, each stream's versions
are 1, 2, ... in position order, the positions have no gap, and the relay publishes each event
once, each stream's in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import subprocess
import sys
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from eventspine.config import Settings
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from eventspine.schemas import installed_registry
from eventspine.store.base import AppendRequest, CommandContext
from eventspine.store.postgres import PostgresEventStore
from roster.events import MemberAssigned, UnitRegistered
from support.auth import token
from support.kafka_read import read_topic
from support.own_servers import ROOT, free_port
from support.topology import settings_env

pytestmark = pytest.mark.integration

LINKS = 40
CONTACTS = 240
CORRECTED = 12
CORRECTIONS = 4  # per corrected contact, half from each process


async def _links(settings: Settings) -> list[tuple[UUID, UUID]]:
    """Links in the roster's store, published to its topic (the contacts replica reads it)."""
    store = PostgresEventStore(
        settings.pg_dsn, "roster", installed_registry(), schema=settings.store_schema("roster")
    )
    await store.open()
    unit = uuid.uuid4()
    pairs = [(uuid.uuid4(), uuid.uuid4()) for _ in range(LINKS)]
    try:
        await store.append_many(
            [
                AppendRequest(
                    f"unit-{unit}",
                    0,
                    [UnitRegistered(unit_id=unit, name="测试市总工会", kind="city_federation")],
                ),
                *(
                    AppendRequest(
                        f"link-{lower}",
                        0,
                        [
                            MemberAssigned(
                                member_id=lower,
                                upper_member_id=upper,
                                tier="worker",
                                assigned_on=date(2025, 6, 1),
                            )
                        ],
                    )
                    for upper, lower in pairs
                ),
            ],
            CommandContext(actor="test"),
        )
        producer = make_producer(settings)
        await producer.start()
        try:
            await ensure_topics(settings, [settings.topic("roster")])
            await Relay(store, producer, settings.topic("roster")).drain()
        finally:
            await producer.stop()
    finally:
        await store.close()
    return pairs


def _spawn(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                *("-m", "uvicorn", "--factory", "contacts.main:create_app"),
                *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@contextlib.asynccontextmanager
async def _two_workers(settings: Settings, logs: Path) -> AsyncIterator[list[str]]:
    """Two uvicorn processes of the contacts service on one store; their base URLs."""
    env = {**os.environ, **settings_env(settings)}
    ports = [free_port(), free_port()]
    processes = [_spawn(port, env, logs / f"contacts-{i}.log") for i, port in enumerate(ports)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            for index, url in enumerate(urls):
                for _ in range(600):
                    assert processes[index].poll() is None, (
                        logs / f"contacts-{index}.log"
                    ).read_text()
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(f"{url}/health")).status_code == 200:
                            break
                    await asyncio.sleep(0.2)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def _body(pair: tuple[UUID, UUID], day: int) -> dict[str, Any]:
    return {
        "upper_member_id": str(pair[0]),
        "lower_member_id": str(pair[1]),
        "contacted_on": f"2026-03-{day:02d}",
        "method": "phone",
    }


async def test_two_worker_processes_store_and_relay_each_acknowledged_contact_once(
    pg_settings: Settings, tmp_path: Path
) -> None:
    settings = pg_settings
    pairs = await _links(settings)
    headers = {"Authorization": f"Bearer {token(settings=settings)}"}
    limits = httpx.Limits(max_connections=32)
    async with (
        _two_workers(settings, tmp_path) as urls,
        httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as a,
        httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as b,
    ):
        clients = [a, b]
        probes: set[str] = set()
        for client, url in zip(clients, urls, strict=True):
            client.base_url = httpx.URL(url)
        # Both processes' replicas know every link before the load (a probe contact each).
        for index, pair in enumerate(pairs):
            for _ in range(300):
                answer = await clients[index % 2].post("/contacts", json=_body(pair, 1))
                if answer.status_code == 201:
                    break
                await asyncio.sleep(0.1)
            assert answer.status_code == 201, answer.text
            probes.update(e["event_id"] for e in answer.json()["events"])

        answers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        gate = asyncio.Semaphore(48)

        async def send(client: httpx.AsyncClient, url: str, key: str, body: Any) -> None:
            async with gate:
                reply = await client.post(url, json=body, headers={"Idempotency-Key": key})
            if reply.status_code == 409 and "correction" in url:
                # Corrections racing under other keys: a clash the retries did not resolve
                # is refused, never a lost update; nothing was stored for it.
                assert reply.json()["code"] == "version_conflict", reply.text
                return
            assert reply.status_code in (200, 201), (url, reply.status_code, reply.text)
            answers[key].append(reply.json())

        # Each contact: the same request to both processes at once, under one key; the id of
        # the contact left to the key (uuid5) for half of them.
        keys = [str(uuid.uuid4()) for _ in range(CONTACTS)]
        bodies = []
        for index in range(CONTACTS):
            body = _body(pairs[index % LINKS], 2 + index % 27)
            if index % 2:
                body["contact_id"] = str(uuid.uuid4())
            bodies.append(body)
        await asyncio.gather(
            *(
                send(client, "/contacts", key, body)
                for key, body in zip(keys, bodies, strict=True)
                for client in clients
            )
        )
        # Retries later, each to one process at random.
        rng = random.Random(23)
        await asyncio.gather(
            *(
                send(rng.choice(clients), "/contacts", key, body)
                for key, body in zip(keys, bodies, strict=True)
            )
        )
        made = {key: answers[key][0]["events"][0] for key in keys}
        for key in keys:
            assert len(answers[key]) == 3
            assert all(answer == answers[key][0] for answer in answers[key]), answers[key]

        # Corrections of the same contacts racing each other from both processes (the
        # version check and the pipeline's retry on a conflict), each sent twice as well.
        corrected = [made[key]["stream_id"].removeprefix("contact-") for key in keys[:CORRECTED]]
        corrections = [
            (contact, str(uuid.uuid4()), {"method": "visit", "reason": f"第{n}次更正"})
            for contact in corrected
            for n in range(CORRECTIONS)
        ]
        await asyncio.gather(
            *(
                send(client, f"/contacts/{contact}/correction", key, body)
                for contact, key, body in corrections
                for client in clients
            )
        )
        for _, key, _ in corrections:
            replies = answers.get(key, [])
            assert all(answer == replies[0] for answer in replies), replies

    conn = await asyncpg.connect(settings.pg_dsn)
    try:
        rows = await conn.fetch(
            f"SELECT position, stream_id, stream_version, event_id, event_type, command_id "
            f"FROM {settings.store_schema('contacts')}.events ORDER BY position"
        )
    finally:
        await conn.close()
    # Every acknowledged event is stored once, and nothing else was stored; each key's
    # request appended once.
    stored = Counter(str(row["event_id"]) for row in rows)
    acknowledged = probes | {e["event_id"] for key in answers for e in answers[key][0]["events"]}
    assert len(acknowledged) == LINKS + CONTACTS + sum(
        1 for _, k, _ in corrections if answers.get(k)
    )
    assert stored == Counter(acknowledged)
    by_key = Counter(str(row["command_id"]) for row in rows if row["command_id"] is not None)
    assert by_key == Counter(key for key, replies in answers.items() if replies)
    # Positions without a gap; each stream's versions 1, 2, ... in position order.
    assert [row["position"] for row in rows] == list(range(1, len(rows) + 1))
    versions: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        versions[row["stream_id"]].append(row["stream_version"])
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())
    for contact in corrected:
        done = sum(1 for c, key, _ in corrections if c == contact and answers.get(key))
        assert len(versions[f"contact-{contact}"]) == 1 + done

    # The relay publishes each stored event once, each stream's in position order.
    store = PostgresEventStore(
        settings.pg_dsn,
        "contacts",
        installed_registry(),
        schema=settings.store_schema("contacts"),
    )
    await store.open()
    producer = make_producer(settings)
    await producer.start()
    try:
        await ensure_topics(settings, [settings.topic("contacts")])
        await Relay(store, producer, settings.topic("contacts")).drain()
    finally:
        await producer.stop()
        await store.close()
    records = await read_topic(settings.kafka_bootstrap, settings.topic("contacts"))
    published = [
        (dict(record.headers)["ce_id"].decode(), record.key.decode())
        for partition in records.values()
        for record in partition
    ]
    assert Counter(event for event, _ in published) == stored
    position = {str(row["event_id"]): row["position"] for row in rows}
    per_stream: dict[str, list[int]] = defaultdict(list)
    for event, key in published:
        per_stream[key].append(position[event])
    assert all(p == sorted(p) for p in per_stream.values())
