"""Every published record produced again, twice, newest first and then oldest first: the
views do not change, and events published afterwards are still applied."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from support.convergence import (
    assert_clean,
    changed_rows,
    projection_rows,
    settle_and_measure,
    wait_converged,
)
from support.inject import republish_out_of_order
from support.load import FAULT_RATE, Ledger, Load
from support.own_servers import OwnServer
from support.running import running_topology
from support.topology import RELAYS

pytestmark = [pytest.mark.faults, pytest.mark.timeout(900)]

RATE = FAULT_RATE


async def test_records_delivered_again_and_out_of_order_leave_every_view_unchanged(
    pg_dsn: str, own_kafka_server: OwnServer, tmp_path: Path
) -> None:
    async with running_topology(pg_dsn, own_kafka_server.address, tmp_path) as (
        topology,
        city,
        pool,
    ):
        settings = topology.settings
        ledger = Ledger()

        async def load_for(seconds: float) -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(Load(topology, city, ledger, rate=RATE).run(stop))
            await asyncio.sleep(seconds)
            stop.set()
            await task

        await load_for(10)
        await wait_converged(pool, settings)
        before = await projection_rows(pool, settings)
        produced = 0
        for service in RELAYS:
            produced += await republish_out_of_order(
                settings.kafka_bootstrap, settings.topic(service)
            )
        await wait_converged(pool, settings)  # every copy consumed
        changed = changed_rows(before, await projection_rows(pool, settings))
        await load_for(5)
        measured = await settle_and_measure(
            "duplicate, out-of-order delivery",
            pool,
            topology,
            ledger,
            {"records produced again": produced, "view rows they changed": changed},
        )
        measured.result.duplicates_visible += changed
    assert produced > 2 * len(city.pairs)
    assert changed == 0
    assert_clean(measured, ledger)
