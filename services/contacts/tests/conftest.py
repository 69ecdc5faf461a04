"""Fixtures of the contacts tests: roster and contacts together, on each backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from contacts_driver import Topology, topology
from eventspine.config import Settings
from support.pg import topology_settings


@pytest.fixture
async def pg_settings(pg_dsn: str, kafka_bootstrap: str) -> AsyncIterator[Settings]:
    """Settings for the full topology, with schemas and topics unique to the test."""
    async with topology_settings(pg_dsn, kafka_bootstrap, "k") as settings:
        yield settings


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
