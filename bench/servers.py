"""The processes the HTTP benchmarks drive: apps under uvicorn (with 1 or more workers) and
relays, started as the full topology starts them, on a roster with seeded links."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import httpx

from access.principal import Principal
from access.tokens import TokenService
from bench.infra import ROOT
from eventspine.config import Settings
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from eventspine.schemas import installed_registry
from eventspine.store.base import AppendRequest, CommandContext
from eventspine.store.postgres import PostgresEventStore
from roster.events import MemberAssigned, UnitRegistered
from topology.table import COMMON_SETTINGS

Pair = tuple[UUID, UUID]
"""A link's (upper member, lower member)."""


async def seed_links(settings: Settings, count: int) -> list[Pair]:
    """``count`` links in a roster store, relayed to the roster topic, which the contacts
    service's roster replica consumes."""
    store = PostgresEventStore(
        settings.pg_dsn, "roster", installed_registry(), schema=settings.store_schema("roster")
    )
    await store.open()
    ctx = CommandContext(actor="bench")
    unit = uuid.uuid4()
    pairs = [(uuid.uuid4(), uuid.uuid4()) for _ in range(count)]
    try:
        await store.append_many(
            [
                AppendRequest(
                    f"unit-{unit}",
                    0,
                    [UnitRegistered(unit_id=unit, name="bench", kind="city_federation")],
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
            ctx,
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


def contact(pair: Pair, contact_id: UUID | None = None) -> dict[str, str]:
    """The body of ``POST /contacts`` on ``pair``'s link."""
    body = {
        "upper_member_id": str(pair[0]),
        "lower_member_id": str(pair[1]),
        "contacted_on": "2026-03-01",
        "method": "phone",
    }
    if contact_id is not None:
        body["contact_id"] = str(contact_id)
    return body


def bearer(settings: Settings) -> str:
    """A federation staff token's ``Authorization`` value, as a signed-in client sends it."""
    principal = Principal(uuid.uuid4(), "admin")
    token = TokenService(settings.auth_secret).issue(
        principal, datetime.now(UTC), timedelta(hours=12)
    )
    return f"Bearer {token}"


async def await_replica(url: str, settings: Settings, pairs: Sequence[Pair]) -> None:
    """Wait until the contacts service's roster replica knows every seeded link (each gets
    one contact)."""
    headers = {"Authorization": bearer(settings)}
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as client:
        for pair in pairs:
            for _ in range(300):
                answer = await client.post("/contacts", json=contact(pair))
                if answer.status_code == 201:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"the replica never learnt link {pair}: {answer.text}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@asynccontextmanager
async def servers(
    settings: Settings,
    apps: Sequence[str] = ("contacts.main", "reports.main"),
    relays: Sequence[str] = ("contacts",),
    *,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[dict[str, str]]:
    """Apps (``uvicorn --factory <module>:create_app --workers <workers>``) and relays, each
    its own process; yields each app's base URL by its first module name."""
    env = {
        **os.environ,
        **COMMON_SETTINGS,  # as the full topology runs them: JSON logs, PostgreSQL stores
        **(extra_env or {}),
        "SANLIAN_PG_DSN": settings.pg_dsn,
        "SANLIAN_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "SANLIAN_TOPIC_PREFIX": settings.topic_prefix,
        "SANLIAN_PG_SCHEMA_PREFIX": settings.pg_schema_prefix,
    }
    urls: dict[str, str] = {}
    processes: list[subprocess.Popen[bytes]] = []

    def spawn(*args: str) -> None:
        processes.append(
            subprocess.Popen([sys.executable, *args], env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
        )

    try:
        for module in apps:
            port = _free_port()
            spawn(
                "-m",
                "uvicorn",
                "--factory",
                f"{module}:create_app",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            )
            urls[module.split(".")[0]] = f"http://127.0.0.1:{port}"
        for relay in relays:
            spawn("-m", "servicekit", "relay", "--service", relay)
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
