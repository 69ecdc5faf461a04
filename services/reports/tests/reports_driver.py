"""The whole 15510 system in one test: roster, contacts, feedback and reports on one clock.

Full topology (``postgres``): each service's store on PostgreSQL, and :meth:`City.publish`
relays every store to its Kafka topic (the contacts and feedback replicas, and the reports
projections, consume the topics). Embedded default (``sqlite``): every app on SQLite files in
one folder, each projection fed straight from the other services' store files.

All apps share one :class:`~feedback_driver.MovableClock`: tests move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from contacts.bootstrap import Contacts
from contacts.handlers import ContactsHandlers
from contacts.main import create_app as create_contacts_app
from eventspine.config import Settings
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from eventspine.store.base import EventStore
from feedback.main import create_app as create_feedback_app
from feedback.settings import FeedbackSettings
from feedback_driver import FeedbackClient, MovableClock
from reports.bootstrap import Reports
from reports.main import create_app as create_reports_app
from roster.handlers import RosterHandlers
from roster.main import create_app as create_roster_app
from support.auth import STAFF

SERVICES = ("roster", "contacts", "feedback")
LATE_IN_2026 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
"""Where the tests' clock starts: late in the year, so a year of contacts fits before it."""


@contextlib.asynccontextmanager
async def _client(app: FastAPI, base: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base, headers=STAFF) as client:
            yield client


@dataclass
class City:
    """The roster, contacts and feedback apps running together."""

    settings: Settings
    clock: MovableClock
    roster_app: FastAPI
    contacts_app: FastAPI
    feedback: FeedbackClient

    @property
    def roster(self) -> RosterHandlers:
        """The roster's command handlers."""
        handlers: RosterHandlers = self.roster_app.state.roster.handlers
        return handlers

    @property
    def contacts(self) -> ContactsHandlers:
        """The contacts service's command handlers."""
        wired: Contacts = self.contacts_app.state.contacts
        return wired.handlers

    def store(self, service: str) -> EventStore:
        """A service's event store."""
        wired: Any = {
            "roster": self.roster_app.state.roster,
            "contacts": self.contacts_app.state.contacts,
            "feedback": self.feedback.wired,
        }[service]
        store: EventStore = wired.store
        return store

    async def publish(self) -> int:
        """Full topology: relay every store's new events to its topic; return how many."""
        if self.settings.store_backend != "postgres":
            return 0
        await ensure_topics(self.settings, [self.settings.topic(s) for s in SERVICES])
        producer = make_producer(self.settings)
        await producer.start()
        try:
            published = 0
            for service in SERVICES:
                relay = Relay(self.store(service), producer, self.settings.topic(service))
                published += await relay.drain()
            return published
        finally:
            await producer.stop()

    async def publish_again(self) -> int:
        """What relays that crashed before their checkpoint do: publish every event once more."""
        assert self.settings.store_backend == "postgres"
        producer = make_producer(self.settings)
        await producer.start()
        sent = 0
        try:
            for service in SERVICES:
                position = 0
                while events := await self.store(service).read_all(position, 1000):
                    for event in events:
                        await producer.send(
                            self.settings.topic(service),
                            event.kafka_value(),
                            key=event.stream_id.encode(),
                            headers=event.kafka_headers(),
                        )
                    sent += len(events)
                    position = events[-1].position
            await producer.flush()
        finally:
            await producer.stop()
        return sent

    async def sync(self) -> None:
        """Publish (full topology) and wait until the contacts and feedback replicas caught up."""
        await self.roster_app.state.roster.catch_up()
        await self.publish()
        assert await self.contacts_app.state.contacts.feed.catch_up(60.0)
        assert await self.feedback.wired.feed.catch_up(60.0)


@contextlib.asynccontextmanager
async def city(settings: Settings, clock: MovableClock) -> AsyncIterator[City]:
    """Start roster, contacts and feedback on the settings' backend and the shared clock.

    The feedback scheduler does not run by itself: tests move the clock and call ``tick``.
    """
    roster_app = create_roster_app(settings, clock)
    contacts_app = create_contacts_app(settings, clock)
    feedback_app = create_feedback_app(settings, clock, FeedbackSettings(scheduler_enabled=False))
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(_client(roster_app, "http://roster"))
        await stack.enter_async_context(_client(contacts_app, "http://contacts"))
        feedback_http = await stack.enter_async_context(_client(feedback_app, "http://feedback"))
        yield City(
            settings, clock, roster_app, contacts_app, FeedbackClient(feedback_http, feedback_app)
        )


@contextlib.asynccontextmanager
async def reports(
    settings: Settings, clock: MovableClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Reports]]:
    """The reports app on the same settings and clock: its HTTP client and the wired service."""
    app = create_reports_app(settings, clock)
    async with _client(app, "http://reports") as client:
        wired: Reports = app.state.reports
        yield client, wired


async def settle(client: httpx.AsyncClient, seconds: float = 60.0) -> None:
    """Wait until ``/ready`` says the projections are not behind the topics (or stores)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        ready = await client.get("/ready")
        assert ready.status_code == 200, ready.text
        if ready.json()["events_behind"] == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the reports projections did not catch up in {seconds} s")


async def get(client: httpx.AsyncClient, url: str, **params: Any) -> Any:
    """GET a report; it must answer 200."""
    answer = await client.get(url, params=params)
    assert answer.status_code == 200, (url, params, answer.text)
    return answer.json()
