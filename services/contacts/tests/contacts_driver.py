"""The roster and contacts apps side by side, as the contacts tests drive them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from contacts.main import create_app as contacts_app
from eventspine.config import Settings
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from roster.main import create_app as roster_app
from support.auth import STAFF

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    """The tests' 'now': late in the year, so a year of contacts fits before it."""
    return NOW


class Topology:
    """Roster and contacts over HTTP; ``sync()`` carries roster events to the contacts replica."""

    def __init__(
        self,
        settings: Settings,
        roster: httpx.AsyncClient,
        contacts: httpx.AsyncClient,
        relay: Relay | None,
        apps: tuple[Any, Any],
    ) -> None:
        self.settings = settings
        self.roster = roster
        self.contacts = contacts
        self.relay = relay
        self.roster_state = apps[0].state.roster
        self.contacts_state = apps[1].state.contacts
        self.numbers = 0

    async def sync(self) -> None:
        """Publish the roster's events (full topology) and wait for the replica."""
        if self.relay is not None:
            await self.relay.drain()
        assert await self.contacts_state.feed.catch_up(30.0)

    async def ok(self, client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> Any:
        answer = await client.request(method, url, **kw)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    async def unit(self) -> str:
        unit_id = str(uuid.uuid4())
        await self.ok(
            self.roster,
            "POST",
            "/units",
            json={"unit_id": unit_id, "name": "跃进煤业工会", "kind": "city_federation"},
        )
        return unit_id

    async def member(self, unit_id: str, tier: str) -> str:
        self.numbers += 1
        member_id = str(uuid.uuid4())
        await self.ok(
            self.roster,
            "POST",
            "/members",
            json={
                "member_id": member_id,
                "unit_id": unit_id,
                "tier": tier,
                "name": f"成员{self.numbers}",
                "external_number": f"N{self.numbers:05d}",
                "registered_on": "2025-01-01",
            },
        )
        return member_id

    async def link(self, upper: str, lower: str, on: date) -> None:
        await self.ok(
            self.roster,
            "POST",
            "/links",
            json={
                "upper_member_id": upper,
                "lower_member_id": lower,
                "assigned_on": on.isoformat(),
            },
        )

    async def contact(self, upper: str, lower: str, on: date, **extra: Any) -> httpx.Response:
        return await self.contacts.post(
            "/contacts",
            json={
                "upper_member_id": upper,
                "lower_member_id": lower,
                "contacted_on": on.isoformat(),
                "method": "visit",
                **extra,
            },
        )


@asynccontextmanager
async def _client(app: Any, name: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as client:
            client.headers.update(STAFF)
            yield client


@asynccontextmanager
async def topology(
    settings: Settings, clock: Callable[[], datetime] = fixed_clock
) -> AsyncIterator[Topology]:
    """Both apps on the settings' backend (with a relay between them on PostgreSQL)."""
    rapp = roster_app(settings, clock)
    capp = contacts_app(settings, clock)
    async with _client(rapp, "roster") as roster, _client(capp, "contacts") as contacts:
        producer: AIOKafkaProducer | None = None
        relay = None
        if settings.store_backend == "postgres":
            topic = settings.topic("roster")
            await ensure_topics(settings, [topic])
            producer = make_producer(settings)
            await producer.start()
            relay = Relay(rapp.state.roster.store, producer, topic)
        try:
            yield Topology(settings, roster, contacts, relay, (rapp, capp))
        finally:
            if producer is not None:
                await producer.stop()
