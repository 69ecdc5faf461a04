"""Fixtures of the roster's tests: the app on real PostgreSQL (or SQLite), driven over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from eventspine.config import Settings
from roster.main import create_app
from roster_driver import Roster
from support.auth import STAFF
from support.pg import throwaway_prefix

NOW = datetime(2026, 6, 30, 9, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    """The tests' 'now'."""
    return NOW


@pytest.fixture
async def pg_prefix(pg_dsn: str) -> AsyncIterator[str]:
    """A schema prefix unique to the test; its schemas are dropped afterwards."""
    async with throwaway_prefix(pg_dsn, "r") as prefix:
        yield prefix


@pytest.fixture
def pg_settings(pg_dsn: str, pg_prefix: str, kafka_bootstrap: str) -> Settings:
    """Roster settings on PostgreSQL, with Kafka topics (and so consumer groups) of the
    test's own: the roster's replica of the contacts consumes the contacts topic."""
    return Settings(
        store_backend="postgres",
        pg_dsn=pg_dsn,
        pg_schema_prefix=pg_prefix,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"test.{pg_prefix.rstrip('_')}",
    )


@pytest.fixture(params=["postgres", "sqlite"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The full topology's backend, then the embedded default's."""
    if request.param == "postgres":
        pg: Settings = request.getfixturevalue("pg_settings")
        return pg
    return Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))


async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, fixed_clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster") as client:
            client.headers.update(STAFF)
            yield client


@pytest.fixture
async def client(pg_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The roster app on PostgreSQL."""
    async for http in _client(pg_settings):
        yield http


@pytest.fixture
async def sqlite_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The roster app on the embedded SQLite backend."""
    async for http in _client(Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))):
        yield http


@pytest.fixture
def pg_roster(client: httpx.AsyncClient) -> Roster:
    """Helpers over the PostgreSQL-backed app."""
    return Roster(client)


@pytest.fixture(params=["postgres", "sqlite"])
def roster(request: pytest.FixtureRequest) -> Roster:
    """Helpers over the app, once per backend: the full topology's and the embedded default's."""
    name = "client" if request.param == "postgres" else "sqlite_client"
    http: httpx.AsyncClient = request.getfixturevalue(name)
    return Roster(http)
