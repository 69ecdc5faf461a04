"""Fixtures of the contacts tests: roster and contacts together, on each backend."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from contacts_driver import Topology, topology
from eventspine.config import Settings


@pytest.fixture
async def pg_settings(pg_dsn: str, kafka_bootstrap: str) -> AsyncIterator[Settings]:
    """Settings for the full topology, with schemas and topics unique to the test."""
    prefix = f"k{uuid.uuid4().hex[:8]}_"
    yield Settings(
        store_backend="postgres",
        pg_dsn=pg_dsn,
        pg_schema_prefix=prefix,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"test.{prefix.rstrip('_')}",
    )
    conn = await asyncpg.connect(pg_dsn)
    try:
        for row in await conn.fetch(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", prefix + "%"
        ):
            await conn.execute(f"DROP SCHEMA {row[0]} CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def pg_topology(pg_settings: Settings) -> AsyncIterator[Topology]:
    """Roster and contacts on PostgreSQL, with Kafka between them."""
    async with topology(pg_settings) as t:
        yield t


@pytest.fixture(params=["postgres", "sqlite"])
def any_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The full topology's settings, then the embedded default's."""
    if request.param == "postgres":
        settings: Settings = request.getfixturevalue("pg_settings")
        return settings
    return Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))


@pytest.fixture
async def both(any_settings: Settings) -> AsyncIterator[Topology]:
    """Roster and contacts on each backend."""
    async with topology(any_settings) as t:
        yield t
