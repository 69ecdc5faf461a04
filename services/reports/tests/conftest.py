"""The backends the reports tests run on: the full topology, then the embedded default."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from eventspine.config import Settings
from support.pg import topology_settings


@pytest.fixture
async def pg_settings(pg_dsn: str, kafka_bootstrap: str) -> AsyncIterator[Settings]:
    """Full-topology settings with schemas and topics unique to the test (dropped after)."""
    async with topology_settings(pg_dsn, kafka_bootstrap, "r") as settings:
        yield settings


@pytest.fixture(params=["postgres", "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The full topology, then the embedded default."""
    if request.param == "postgres":
        full: Settings = request.getfixturevalue("pg_settings")
        return full
    return Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))
