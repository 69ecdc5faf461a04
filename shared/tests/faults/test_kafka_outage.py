"""The broker stops for 30 s under a steady command load and comes back.

The store is the outbox: commands go on being accepted while the broker is away, the relays
publish the backlog when it returns, and every projection converges to what a rebuild from
offset 0 gives.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from support.convergence import assert_clean, settle_and_measure, unpublished
from support.load import FAULT_RATE, Ledger, Load, p99
from support.own_servers import OwnServer
from support.running import running_topology
from support.topology import RELAYS

pytestmark = [pytest.mark.faults, pytest.mark.timeout(900)]

OUTAGE_SECONDS = 30
RATE = FAULT_RATE


async def test_commands_are_accepted_while_the_broker_is_down_and_all_views_converge_after(
    pg_dsn: str, own_kafka_server: OwnServer, tmp_path: Path
) -> None:
    async with running_topology(pg_dsn, own_kafka_server.address, tmp_path) as (
        topology,
        city,
        pool,
    ):
        ledger = Ledger()
        stop = asyncio.Event()
        load = asyncio.create_task(Load(topology, city, ledger, rate=RATE).run(stop))
        await asyncio.sleep(10)
        await asyncio.to_thread(own_kafka_server.stop)
        down = time.monotonic()
        await asyncio.sleep(OUTAGE_SECONDS)
        up = time.monotonic()
        backlog = await unpublished(pool, topology.settings)
        await asyncio.to_thread(own_kafka_server.start)
        await asyncio.sleep(10)
        stop.set()
        await load
        while_down = ledger.acknowledged_between(down, up)
        measured = await settle_and_measure(
            f"Kafka broker down {OUTAGE_SECONDS} s",
            pool,
            topology,
            ledger,
            {
                "acknowledged while the broker was down": while_down,
                "p99 s while the broker was down": round(p99(ledger, down, up) or 0.0, 3),
                "unpublished when it came back": backlog,
                "relay retries": sum(
                    topology.log(f"relay:{service}").read_text().count("relay.retrying")
                    for service in RELAYS
                ),
            },
        )
    assert_clean(measured, ledger)
    # Commands were accepted throughout the outage, at (at least half) the offered rate.
    assert while_down >= RATE * OUTAGE_SECONDS / 2, ledger.answers
    assert backlog > 0  # the store held what the broker could not take
