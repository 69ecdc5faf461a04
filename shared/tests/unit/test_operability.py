"""/ready, /metrics and correlation ids, as every service's app has them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI

from eventspine.config import Settings
from eventspine.events import EventRegistry
from eventspine.store.base import CommandContext, utc_now
from eventspine.store.sqlite import SqliteEventStore
from servicekit.http import command_context, service_app
from support.auth import STAFF, NothingRevoked
from support.sample import unit


class FakeFeed:
    """A feed that is some events behind, or dead."""

    def __init__(self, behind: int) -> None:
        self.lag = behind
        self.error: Exception | None = None

    async def behind(self) -> int:
        if self.error is not None:
            raise self.error
        return self.lag


@dataclass
class Wired:
    store: SqliteEventStore
    feed: FakeFeed
    catch_up: Callable[[], Awaitable[int]]
    close: Callable[[], Awaitable[None]]
    seen: list[CommandContext] = field(default_factory=list)
    revocations: NothingRevoked = field(default_factory=NothingRevoked)


async def _zero() -> int:
    return 0


async def _nothing() -> None:
    return None


@pytest.fixture
async def wired(tmp_path: Path, registry: EventRegistry) -> AsyncIterator[Wired]:
    store = SqliteEventStore(str(tmp_path / "s.sqlite"), "roster", registry)
    await store.open()
    yield Wired(store, FakeFeed(3), _zero, _nothing)
    await store.close()


def _app(wired: Wired) -> FastAPI:
    router = APIRouter()

    @router.post("/units/{unit_id}")
    async def register(
        unit_id: str, ctx: Annotated[CommandContext, Depends(command_context)]
    ) -> dict[str, str]:
        recorded = await wired.store.append(unit_id, 0, [unit()], ctx)
        return {"correlation_id": str(recorded[0].correlation_id)}

    async def open_service() -> Wired:
        return wired

    return service_app(
        "roster",
        title="t",
        summary="s",
        settings=Settings(),
        clock=utc_now,
        routers=[router],
        open_service=open_service,
    )


@pytest.fixture
async def client(wired: Wired) -> AsyncIterator[httpx.AsyncClient]:
    app = _app(wired)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test", headers=STAFF) as http,
    ):
        yield http


async def test_ready_reports_the_database_and_the_feed_lag(client: httpx.AsyncClient) -> None:
    answer = await client.get("/ready")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "service": "roster",
        "checks": {"database": "ok", "feed": "ok"},
        "head_position": 0,
        "events_behind": 3,
    }


async def test_a_dead_feed_or_an_unreachable_database_is_a_503(
    client: httpx.AsyncClient, wired: Wired
) -> None:
    wired.feed.error = RuntimeError("consumer stopped")
    answer = await client.get("/ready")
    assert answer.status_code == 503
    assert answer.json()["checks"]["feed"] == "failed: RuntimeError: consumer stopped"
    wired.feed.error = None
    await wired.store.close()  # the database goes away
    answer = await client.get("/ready")
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"].startswith("unreachable: RuntimeError")
    metrics = (await client.get("/metrics")).text
    assert 'sanlian_ready{service="roster"} 0.0' in metrics
    await wired.store.open()


async def test_not_ready_before_the_service_is_open(wired: Wired) -> None:
    app = _app(wired)  # lifespan not run: nothing on app.state yet
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.get("/ready")
    assert answer.status_code == 503
    assert answer.json()["status"] == "starting"


async def test_metrics_count_requests_by_route_and_read_the_gauges(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(2):
        await client.post(f"/units/u-{uuid.uuid4().hex[:6]}")
    await client.get("/nowhere")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert (
        'sanlian_http_requests_total{method="POST",route="/units/{unit_id}",service="roster",'
        'status="200"} 2.0' in text
    )
    assert (
        'sanlian_http_requests_total{method="GET",route="unmatched",service="roster",'
        'status="404"} 1.0' in text
    )
    assert (
        'sanlian_http_request_duration_seconds_count{method="POST",route="/units/{unit_id}",'
        'service="roster"} 2.0' in text
    )
    assert 'sanlian_ready{service="roster"} 1.0' in text
    assert 'sanlian_feed_lag_events{service="roster"} 3.0' in text
    assert 'sanlian_store_head_position{service="roster"} 2.0' in text


async def test_the_correlation_id_reaches_the_events_and_the_answer(
    client: httpx.AsyncClient,
) -> None:
    given = str(uuid.uuid4())
    answer = await client.post("/units/u-given", headers={"X-Correlation-Id": given})
    assert answer.headers["x-correlation-id"] == given
    assert answer.json()["correlation_id"] == given
    # None given: the one the middleware made up is the one the events carry.
    answer = await client.post("/units/u-made-up")
    assert answer.json()["correlation_id"] == answer.headers["x-correlation-id"]
    assert uuid.UUID(answer.headers["x-correlation-id"])
