"""Drives the roster and feedback apps together, the way the 15510 system runs.

Full topology: the roster app on PostgreSQL, a relay from its store to Kafka, and the feedback
app consuming the roster topic into its replica. Embedded default: both apps on SQLite files
in one folder. Both share one movable clock, so tests move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from eventspine.config import Settings
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from feedback.bootstrap import Feedback
from feedback.main import create_app
from feedback.settings import FeedbackSettings
from roster.main import create_app as create_roster_app
from roster_driver import Roster
from support.auth import STAFF, as_member

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class MovableClock:
    """The tests' clock: stands still until moved."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: float) -> datetime:
        """Move time forward and return the new now."""
        self.now += timedelta(days=days)
        return self.now


def member(member_id: str) -> dict[str, str]:
    """Headers of a request made by a member."""
    return as_member(member_id)


class FeedbackClient:
    """Small helpers over the feedback API."""

    def __init__(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        self.client = client
        self.app = app

    @property
    def wired(self) -> Feedback:
        """The service behind the app (for the scheduler and the store)."""
        feedback: Feedback = self.app.state.feedback
        return feedback

    async def ok(self, method: str, url: str, actor: str | None = None, **kwargs: Any) -> Any:
        headers = member(actor) if actor else {}
        answer = await self.client.request(method, url, headers=headers, **kwargs)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    async def raise_(self, actor: str, text: str, **body: Any) -> str:
        """Raise a suggestion; return its id."""
        payload = {"text": text, "category": "training", "channel": "online", **body}
        answer = await self.ok("POST", "/suggestions", actor, json=payload)
        return str(answer["suggestion_id"])

    async def act(self, actor: str, suggestion_id: str, step: str, **body: Any) -> Any:
        """Post one lifecycle step (acknowledgement, answer, escalation, ...)."""
        return await self.ok("POST", f"/suggestions/{suggestion_id}/{step}", actor, json=body)

    async def get(self, suggestion_id: str) -> Any:
        return await self.ok("GET", f"/suggestions/{suggestion_id}")


@dataclass
class Tree:
    """The story's chain: 张永忠 (leader) > committee member > 张东峰 (representative) > worker."""

    city: str
    county: str
    enterprise: str
    leader: str
    committee: str
    representative: str
    worker: str


async def build_tree(roster: Roster) -> Tree:
    """City federation > county union > 跃进煤业 enterprise union, and the 15510 chain."""
    city = await roster.unit("阳泉市总工会", "city_federation")
    county = await roster.unit("盂县总工会", "county_union", city)
    enterprise = await roster.unit("盂县跃进煤业公司工会", "enterprise_union", county)
    leader = await roster.member(city, "leader", "张永忠")
    committee = await roster.member(county, "committee", "李建华")
    representative = await roster.member(enterprise, "representative", "张东峰")
    worker = await roster.member(enterprise, "worker", "王师傅")
    await roster.link(leader, committee)
    await roster.link(committee, representative)
    await roster.link(representative, worker)
    return Tree(city, county, enterprise, leader, committee, representative, worker)


@dataclass
class Topology:
    """Both apps, driven over HTTP."""

    roster: Roster
    feedback: FeedbackClient
    clock: MovableClock
    settings: Settings
    roster_app: FastAPI
    feedback_app: FastAPI


@contextlib.asynccontextmanager
async def _client(app: FastAPI, base: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            yield client


@contextlib.asynccontextmanager
async def topology(
    settings: Settings, clock: MovableClock, config: FeedbackSettings | None = None
) -> AsyncIterator[Topology]:
    """Start the roster app, (full topology) its relay to Kafka, and the feedback app."""
    config = config or FeedbackSettings(scheduler_enabled=False)  # tests call tick themselves
    roster_app = create_roster_app(settings, clock)
    feedback_app = create_app(settings, clock, config)
    async with _client(roster_app, "http://roster") as roster_http:
        roster_http.headers.update(STAFF)
        async with contextlib.AsyncExitStack() as stack:
            if settings.store_backend == "postgres":
                await stack.enter_async_context(_relay(settings, roster_app))
            feedback_http = await stack.enter_async_context(_client(feedback_app, "http://fb"))
            feedback_http.headers.update(STAFF)  # reads as staff unless a member acts
            yield Topology(
                Roster(roster_http),
                FeedbackClient(feedback_http, feedback_app),
                clock,
                settings,
                roster_app,
                feedback_app,
            )


@contextlib.asynccontextmanager
async def _relay(settings: Settings, roster_app: FastAPI) -> AsyncIterator[None]:
    topic = settings.topic("roster")
    await ensure_topics(settings, [topic])
    producer = make_producer(settings)
    await producer.start()
    stop = asyncio.Event()
    task = asyncio.create_task(Relay(roster_app.state.roster.store, producer, topic).run(stop))
    try:
        yield
    finally:
        stop.set()
        await task
        await producer.stop()


def pg_settings(pg_dsn: str, kafka_bootstrap: str, prefix: str) -> Settings:
    """Full-topology settings with schemas and topics unique to one test."""
    return Settings(
        store_backend="postgres",
        pg_dsn=pg_dsn,
        pg_schema_prefix=prefix,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"test.{prefix.rstrip('_')}",
        topic_partitions=3,
    )


def unique_prefix() -> str:
    """A schema prefix unique to one test."""
    return f"f{uuid.uuid4().hex[:8]}_"
