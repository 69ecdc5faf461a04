"""One fault scenario's world: the full topology on the given servers, with the city seeded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx

from support.load import City, seed_city
from support.pg import topology_settings
from support.topology import Topology


@asynccontextmanager
async def running_topology(
    dsn: str, bootstrap: str, logs: Path, extra_env: dict[str, str] | None = None
) -> AsyncIterator[tuple[Topology, City, asyncpg.Pool]]:
    """Every app and relay running on the given servers, under names unique to the test, with
    the city seeded and known to every replica."""
    async with topology_settings(dsn, bootstrap, "f") as settings:
        topology = Topology(settings, logs, extra_env)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
        try:
            await topology.start_all()
            async with httpx.AsyncClient(base_url=topology.url("roster"), timeout=30) as client:
                city = await seed_city(client)
            yield topology, city, pool
        finally:
            topology.stop_all()
            await pool.close()
