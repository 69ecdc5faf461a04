"""The fault tier at load, on the topology outgrown one machine: a three-broker KRaft cluster
(replication 3, ``min.insync.replicas`` 2, ``acks=all``), two instances of each service behind
HAProxy, two relays per store.

A steady open-loop load (a fixed schedule; latency counted from when each command was due)
goes through the balancer while a broker, the controller's broker, one instance of each
service in turn, or the active relays die. After each: no acknowledged event lost, nothing
stored twice, ``sanlian-audit verify --source both`` clean, every view equal to a rebuild from
offset 0; the report adds the load held and the p99 during the fault.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from support.cluster import (
    BalancedTopology,
    OwnCluster,
    running_cluster_topology,
    stored_twice,
)
from support.convergence import assert_clean, settle_and_measure
from support.load import City, Ledger, Load, held_rate, p99
from support.topology import APPS, RELAYS

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(900)]

RATE = float(os.environ.get("SANLIAN_CLUSTER_RATE", "50"))
"""Commands a second offered through the balancer (``SANLIAN_CLUSTER_RATE``)."""

P99_BOUND = (
    float(os.environ["SANLIAN_CLUSTER_P99_BOUND"])
    if os.environ.get("SANLIAN_CLUSTER_P99_BOUND")
    else None
)
"""Seconds (``SANLIAN_CLUSTER_P99_BOUND``, e.g. 1): the p99 latency the load must keep during
each fault, and the schedule it must keep (90 %). Unset, the load held and the p99 are measured
and reported, not asserted: on a machine shared with other work, what the generator can offer
says more about the neighbours than about the system."""

WARM_SECONDS = float(os.environ.get("SANLIAN_CLUSTER_WARM_SECONDS", "15"))
"""Seconds of load before the measured part (``SANLIAN_CLUSTER_WARM_SECONDS``). Processes
just started are slow for their first seconds under load (connections opened, statements
prepared, the brokers' compiler at work): on this machine, 50 commands/s on a cold topology
had a p99 of about 1 s for four seconds, then under 100 ms. A fault in the busiest hour hits
a warm system, so the warm-up is not the fault's figure; its commands are checked like the
rest, and its p99 is reported on its own."""

BEFORE_SECONDS = 8.0
AFTER_SECONDS = 10.0
BROKER_DOWN_SECONDS = 15.0


@dataclass(frozen=True)
class Window:
    """When (``time.monotonic()``) the warm-up ended, and the fault began and ended."""

    warmed: float
    start: float
    end: float


async def _under_load(
    topology: BalancedTopology, city: City, fault: Callable[[], Awaitable[dict[str, object]]]
) -> tuple[Ledger, dict[str, object], Window]:
    """Run the load, warm it up, then ``fault()`` in the middle of it."""
    ledger = Ledger()
    stop = asyncio.Event()
    began = time.monotonic()
    load = asyncio.create_task(Load(topology, city, ledger, rate=RATE).run(stop))
    await asyncio.sleep(WARM_SECONDS)
    warmed = time.monotonic()
    await asyncio.sleep(BEFORE_SECONDS)
    start = time.monotonic()
    notes = await fault()
    end = time.monotonic()
    await asyncio.sleep(AFTER_SECONDS)
    stop.set()
    ended = time.monotonic()
    await load
    # An open loop that could not even send on time (its own process starved of CPU) did not
    # offer the rate: that is measured, not assumed.
    notes["sent on schedule %"] = round(100 * ledger.sent / (RATE * (ended - began)), 1)
    return ledger, notes, Window(warmed, start, end)


async def _check(
    name: str,
    topology: BalancedTopology,
    pool: asyncpg.Pool,
    ledger: Ledger,
    notes: dict[str, object],
    window: Window,
) -> None:
    start, end = window.start, window.end
    during = p99(ledger, start, end)
    began = min(a.due for a in ledger.acknowledged.values())
    last = max(a.due for a in ledger.acknowledged.values())
    warming = p99(ledger, began, window.warmed)
    twice = await stored_twice(pool, topology.settings, ledger)
    measured = await settle_and_measure(
        name,
        pool,
        topology,
        ledger,
        {
            **notes,
            "offered /s": RATE,
            "held /s during the fault": round(held_rate(ledger, start, end), 1),
            "held /s overall": round(held_rate(ledger, window.warmed, last), 1),
            "p99 s warming up": None if warming is None else round(warming, 3),
            "p99 s before the fault": round(p99(ledger, window.warmed, start) or 0.0, 3),
            "p99 s during the fault": None if during is None else round(during, 3),
            "p99 s overall": round(p99(ledger, window.warmed, last) or 0.0, 3),
            "stored twice": sum(twice.values()),
            "balancer 502s": ledger.answers.get("502", 0),
        },
    )
    measured.result.duplicates_visible += sum(twice.values())
    assert_clean(measured, ledger)
    assert during is not None, measured.result.notes
    if P99_BOUND is not None:
        assert during < P99_BOUND, measured.result.notes
        assert float(str(notes["sent on schedule %"])) >= 90, measured.result.notes
        # Open loop: what was due during the fault was acknowledged, at the offered rate.
        assert held_rate(ledger, start, end) >= 0.9 * RATE, measured.result.notes


async def _broker_down_and_back(cluster: OwnCluster, broker: int) -> None:
    await asyncio.to_thread(cluster.kill, broker)
    await asyncio.sleep(BROKER_DOWN_SECONDS)
    await asyncio.to_thread(cluster.start)


async def test_a_broker_killed_and_brought_back_loses_nothing(
    pg_dsn: str, own_kafka_cluster: OwnCluster, tmp_path: Path
) -> None:
    async with running_cluster_topology(pg_dsn, own_kafka_cluster.address, tmp_path) as (
        topology,
        city,
        pool,
    ):
        controller = own_kafka_cluster.controller()
        broker = next(n for n in (1, 2, 3) if n != controller)

        async def fault() -> dict[str, object]:
            await _broker_down_and_back(own_kafka_cluster, broker)
            return {"broker killed": broker, "down s": BROKER_DOWN_SECONDS}

        ledger, notes, window = await _under_load(topology, city, fault)
        await _check("cluster: a broker kill -9", topology, pool, ledger, notes, window)


async def test_the_controllers_broker_killed_loses_nothing(
    pg_dsn: str, own_kafka_cluster: OwnCluster, tmp_path: Path
) -> None:
    async with running_cluster_topology(pg_dsn, own_kafka_cluster.address, tmp_path) as (
        topology,
        city,
        pool,
    ):

        async def fault() -> dict[str, object]:
            controller = own_kafka_cluster.controller()
            await _broker_down_and_back(own_kafka_cluster, controller)
            after = own_kafka_cluster.controller()
            return {"controller killed": controller, "controller after": after}

        ledger, notes, window = await _under_load(topology, city, fault)
        await _check("cluster: controller kill -9", topology, pool, ledger, notes, window)


async def test_one_instance_of_each_service_killed_in_turn_fails_over(
    pg_dsn: str, own_kafka_cluster: OwnCluster, tmp_path: Path
) -> None:
    async with running_cluster_topology(pg_dsn, own_kafka_cluster.address, tmp_path) as (
        topology,
        city,
        pool,
    ):

        async def fault() -> dict[str, object]:
            for app in APPS:
                victim = topology.instances_of(app)[0]
                topology.kill(victim)
                await asyncio.sleep(3.0)  # the other instance serves alone meanwhile
                topology.start(victim)
                await topology.ready(victim)
                await asyncio.sleep(1.0)
            return {"instances killed": len(APPS)}

        ledger, notes, window = await _under_load(topology, city, fault)
        await _check("cluster: an instance each", topology, pool, ledger, notes, window)


async def test_the_active_relays_killed_for_good_the_standbys_publish_the_rest(
    pg_dsn: str, own_kafka_cluster: OwnCluster, tmp_path: Path
) -> None:
    async with running_cluster_topology(pg_dsn, own_kafka_cluster.address, tmp_path) as (
        topology,
        city,
        pool,
    ):
        takeovers: list[float] = []

        async def fault() -> dict[str, object]:
            for service in RELAYS:
                active = topology.active_relay(service)
                standby = next(
                    name
                    for name in (f"relay:{service}", f"relay:{service}#standby")
                    if name != active
                )
                before = topology.log(standby).read_text(errors="replace").count("relay.active")
                topology.kill(active)  # for good: it is not started again
                killed = time.monotonic()
                while (
                    topology.log(standby).read_text(errors="replace").count("relay.active")
                    <= before
                ):
                    assert time.monotonic() - killed < 15, topology.tail(standby)
                    await asyncio.sleep(0.1)
                takeovers.append(time.monotonic() - killed)
                await asyncio.sleep(2.0)
            return {"relays killed": len(RELAYS), "slowest takeover s": round(max(takeovers), 2)}

        ledger, notes, window = await _under_load(topology, city, fault)
        await _check("cluster: active relays", topology, pool, ledger, notes, window)
        assert max(takeovers) < 5.0
