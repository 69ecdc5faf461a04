"""The roster beside the contacts service, each over HTTP, for the rules the roster decides on
the contacts logged on its links (fed to it by the contacts service's events)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from contacts.main import create_app as contacts_app
from eventspine.config import Settings
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from roster.main import create_app as roster_app
from roster_driver import Roster
from support.auth import STAFF

NOW = datetime(2026, 6, 30, 9, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    """The tests' 'now' (the roster tests' day)."""
    return NOW


class WithContacts(Roster):
    """The roster's helpers, and the contacts service the links' contacts are logged with.

    On PostgreSQL each store's relay publishes on demand (:meth:`publish_roster`,
    :meth:`publish_contacts`), as the relay processes would; the replicas' feeds run as in
    the services."""

    def __init__(
        self,
        roster: httpx.AsyncClient,
        contacts: httpx.AsyncClient,
        apps: tuple[FastAPI, FastAPI],
        relays: tuple[Relay, Relay] | None,
    ) -> None:
        super().__init__(roster)
        self.contacts = contacts
        self.wired_roster = apps[0].state.roster
        self.wired_contacts = apps[1].state.contacts
        self.relays = relays

    async def publish_roster(self) -> None:
        """The roster's events reach the contacts service's replica of its links."""
        if self.relays is not None:
            await self.relays[0].drain()
        assert await self.wired_contacts.feed.catch_up(30.0)

    async def publish_contacts(self) -> None:
        """The contacts service's events are on their way to the roster (not waited for)."""
        if self.relays is not None:
            await self.relays[1].drain()

    async def head(self) -> int:
        """The roster store's head position (unchanged by a refused command)."""
        position: int = await self.wired_roster.store.head_position()
        return position

    async def contact(self, upper: str, lower: str, on: date) -> str:
        """Log a visit of ``upper`` to ``lower`` on ``on``; its contact id."""
        contact_id = str(uuid.uuid4())
        body = {
            "contact_id": contact_id,
            "upper_member_id": upper,
            "lower_member_id": lower,
            "contacted_on": on.isoformat(),
            "method": "visit",
        }
        answer = await self.contacts.post("/contacts", json=body)
        assert answer.status_code == 201, answer.text
        return contact_id

    async def meeting(self, upper: str, lowers: list[str], on: date) -> None:
        """Log a forum of ``upper`` with ``lowers`` on ``on``."""
        body = {"upper_member_id": upper, "lower_member_ids": lowers, "contacted_on": str(on)}
        answer = await self.contacts.post("/meetings", json=body)
        assert answer.status_code == 201, answer.text

    async def on_contact(self, contact_id: str, step: str, **body: Any) -> None:
        """A correction or retraction of a contact."""
        answer = await self.contacts.post(f"/contacts/{contact_id}/{step}", json=body)
        assert answer.status_code == 200, answer.text


@asynccontextmanager
async def _client(app: FastAPI, name: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as client:
            client.headers.update(STAFF)
            yield client


@asynccontextmanager
async def with_contacts(
    settings: Settings, clock: Callable[[], datetime] = fixed_clock
) -> AsyncIterator[WithContacts]:
    """Both apps on the settings' backend, with a relay per store on PostgreSQL; the roster's
    replica of the contacts is caught up (its consumer assigned) before the test starts."""
    rapp, capp = roster_app(settings, clock), contacts_app(settings, clock)
    async with _client(rapp, "roster") as roster, _client(capp, "contacts") as contacts:
        producer: AIOKafkaProducer | None = None
        relays = None
        if settings.store_backend == "postgres":
            topics = [settings.topic("roster"), settings.topic("contacts")]
            await ensure_topics(settings, topics)
            producer = make_producer(settings)
            await producer.start()
            relays = (
                Relay(rapp.state.roster.store, producer, topics[0]),
                Relay(capp.state.contacts.store, producer, topics[1]),
            )
        try:
            both = WithContacts(roster, contacts, (rapp, capp), relays)
            assert await both.wired_roster.feed.catch_up(30.0)
            yield both
        finally:
            if producer is not None:
                await producer.stop()
