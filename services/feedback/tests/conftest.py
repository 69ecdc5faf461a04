"""Fixtures of the feedback service's tests: both apps on real PostgreSQL and Kafka, or SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from eventspine.config import Settings
from feedback_driver import MovableClock, Topology, pg_settings, topology
from support.pg import throwaway_prefix


@pytest.fixture
async def pg_prefix(pg_dsn: str) -> AsyncIterator[str]:
    """A schema prefix unique to the test; its schemas are dropped afterwards."""
    async with throwaway_prefix(pg_dsn, "f") as prefix:
        yield prefix


@pytest.fixture
def clock() -> MovableClock:
    """The tests' movable clock."""
    return MovableClock()


@pytest.fixture
def full_settings(pg_dsn: str, kafka_bootstrap: str, pg_prefix: str) -> Settings:
    """Settings of the full topology, unique to the test."""
    return pg_settings(pg_dsn, kafka_bootstrap, pg_prefix)


@pytest.fixture
async def full(full_settings: Settings, clock: MovableClock) -> AsyncIterator[Topology]:
    """Roster app + relay + Kafka + feedback app, on PostgreSQL."""
    async with topology(full_settings, clock) as running:
        yield running


@pytest.fixture
async def embedded(tmp_path: Path, clock: MovableClock) -> AsyncIterator[Topology]:
    """Both apps on the embedded SQLite backend, in one folder."""
    settings = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))
    async with topology(settings, clock) as running:
        yield running
