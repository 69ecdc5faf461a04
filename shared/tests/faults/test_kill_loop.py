"""``kill -9`` of the relays and of the processes running consumers, at random moments, round
after round under a steady command load: no event lost, no projection counting one twice."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path

import pytest

from support.convergence import assert_clean, settle_and_measure
from support.load import FAULT_RATE, Ledger, Load
from support.own_servers import OwnServer
from support.running import running_topology

pytestmark = [pytest.mark.faults, pytest.mark.timeout(900)]

TARGETS = (
    "relay:roster",
    "relay:contacts",
    "relay:feedback",
    "contacts",
    "feedback",
    "reports",
    "notify",
)
"""The relays, and the services whose processes run Kafka consumers (contacts' and feedback's
roster replicas, the reports' two projections, the notify service's replica and scheduler)."""

ROUNDS_EACH = 4
RATE = FAULT_RATE
# Small batches: more commits per second, so a kill more often falls between a broker's
# acknowledgement and the checkpoint, or between fetching and committing a batch.
SMALL_BATCHES = {"SANLIAN_RELAY_BATCH_SIZE": "5", "SANLIAN_CONSUMER_BATCH_SIZE": "5"}


async def test_relays_and_consumers_killed_at_random_moments_lose_and_double_nothing(
    pg_dsn: str, own_kafka_server: OwnServer, tmp_path: Path
) -> None:
    chance = random.Random(9)
    rounds = [target for target in TARGETS for _ in range(ROUNDS_EACH)]
    chance.shuffle(rounds)
    async with running_topology(pg_dsn, own_kafka_server.address, tmp_path, SMALL_BATCHES) as (
        topology,
        city,
        pool,
    ):
        ledger = Ledger()
        stop = asyncio.Event()
        load = asyncio.create_task(Load(topology, city, ledger, rate=RATE).run(stop))
        killed: Counter[str] = Counter()
        for target in rounds:
            await asyncio.sleep(chance.uniform(0.2, 3.0))
            await topology.restart(target)
            killed[target] += 1
        stop.set()
        await load
        measured = await settle_and_measure(
            f"kill -9, {len(rounds)} rounds",
            pool,
            topology,
            ledger,
            {"kills": ", ".join(f"{name} {n}" for name, n in sorted(killed.items()))},
        )
    assert_clean(measured, ledger)
    assert sum(killed.values()) == len(rounds) >= 20
