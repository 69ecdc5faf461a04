"""Fixtures of the event platform's tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from eventspine.config import Settings
from eventspine.events import EventRegistry
from eventspine.schemas import installed_registry
from eventspine.store.base import EventStore
from eventspine.store.postgres import PostgresEventStore
from eventspine.store.sqlite import SqliteEventStore


@pytest.fixture(scope="session")
def registry() -> EventRegistry:
    """Every installed event type."""
    return installed_registry()


@pytest.fixture
async def pg_schema(pg_dsn: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL schema name, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def pg_store(
    pg_dsn: str, pg_schema: str, registry: EventRegistry
) -> AsyncIterator[PostgresEventStore]:
    """A roster event store in a fresh PostgreSQL schema."""
    store = PostgresEventStore(pg_dsn, "roster", registry, schema=pg_schema, pool_size=25)
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path, registry: EventRegistry) -> AsyncIterator[SqliteEventStore]:
    """A roster event store in a fresh SQLite file."""
    store = SqliteEventStore(str(tmp_path / "roster.sqlite"), "roster", registry)
    await store.open()
    yield store
    await store.close()


@pytest.fixture(params=["pg", "sqlite"])
def store(request: pytest.FixtureRequest) -> EventStore:
    """The same contract, run against each backend."""
    fixture: EventStore = request.getfixturevalue(f"{request.param}_store")
    return fixture


@pytest.fixture
def kafka_settings(kafka_bootstrap: str) -> Settings:
    """Settings pointing at the test broker, with a topic prefix unique to the test."""
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"test.{uuid.uuid4().hex[:10]}",
        topic_partitions=3,
    )
