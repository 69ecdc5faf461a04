"""PostgreSQL goes down under a steady command load and comes back.

While it is down every service answers 503 with Retry-After (never a 500, never a hang); when
it is back they recover by themselves, and nothing they acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from support.convergence import assert_clean, settle_and_measure
from support.inject import republish_out_of_order
from support.load import FAULT_RATE, Ledger, Load, p99
from support.own_servers import OwnServer
from support.running import running_topology

pytestmark = [pytest.mark.faults, pytest.mark.timeout(900)]

OUTAGE_SECONDS = 15
RATE = FAULT_RATE


async def test_services_answer_503_while_the_database_is_down_and_lose_nothing_they_acknowledged(
    own_pg_server: OwnServer, own_kafka_server: OwnServer, tmp_path: Path
) -> None:
    async with running_topology(own_pg_server.address, own_kafka_server.address, tmp_path) as (
        topology,
        city,
        pool,
    ):
        ledger = Ledger()
        stop = asyncio.Event()
        load = asyncio.create_task(Load(topology, city, ledger, rate=RATE).run(stop))
        await asyncio.sleep(10)
        unavailable_before = ledger.answers["503"]
        await asyncio.to_thread(own_pg_server.stop)
        down = time.monotonic()
        await asyncio.sleep(2)
        # Records reach the consumers while their database is away (a relay on another
        # database would publish them; here, copies of what the roster published).
        delivered = await republish_out_of_order(
            own_kafka_server.address, topology.settings.topic("roster")
        )
        await asyncio.sleep(OUTAGE_SECONDS - 2)
        unavailable = ledger.answers["503"] - unavailable_before
        restarting = time.monotonic()
        await asyncio.to_thread(own_pg_server.start)
        up = time.monotonic()
        await asyncio.sleep(15)
        stop.set()
        await load
        after = ledger.acknowledged_between(up, time.monotonic())
        measured = await settle_and_measure(
            f"PostgreSQL down {OUTAGE_SECONDS} s",
            pool,
            topology,
            ledger,
            {
                "503 answers while down": unavailable,
                "p99 s of what was due while down": round(p99(ledger, down, up) or 0.0, 3),
                "acknowledged while down": ledger.acknowledged_between(down + 1, restarting),
                "acknowledged after the restart": after,
                "records delivered while down": delivered,
            },
        )
    assert_clean(measured, ledger)
    assert unavailable > 0, ledger.answers  # the outage was seen, and answered with 503
    assert after > 0
