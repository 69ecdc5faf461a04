"""Hostile records on a topic the services consume: each consumer sets each aside on the
dead-letter topic with the reason, and goes on applying what follows."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path

import pytest

from eventspine.deadletter import dead_letter_topic
from support.convergence import assert_clean, settle_and_measure, wait_converged
from support.inject import hostile_variants, produce_hostile
from support.kafka_read import read_topic
from support.load import FAULT_RATE, Ledger, Load
from support.own_servers import OwnServer
from support.running import running_topology

pytestmark = [pytest.mark.faults, pytest.mark.timeout(900)]

ROSTER_CONSUMERS = (
    "contacts.roster-replica",
    "feedback.roster_replica",
    "reports.compliance",
    "notify.replica",
)
"""The projections services run on the roster topic: each must set every hostile record aside."""

REASONS = {
    "missing ce_ headers": "missing CloudEvents header",
    "unknown type": "MemberTeleported",
    "malformed body": "not a Sanlian CloudEvent",
    "schema-invalid data": "upper_member_id",
}


async def test_hostile_records_go_to_the_dead_letter_topic_with_their_reason_and_consumers_go_on(
    pg_dsn: str, own_kafka_server: OwnServer, tmp_path: Path
) -> None:
    async with running_topology(pg_dsn, own_kafka_server.address, tmp_path) as (
        topology,
        city,
        pool,
    ):
        settings = topology.settings
        topic = settings.topic("roster")
        published = await read_topic(settings.kafka_bootstrap, topic)
        valid = next(
            r
            for rs in published.values()
            for r in rs
            if dict(r.headers)["ce_type"] == b"sanlian.roster.MemberAssigned.v1"
        )
        await produce_hostile(settings.kafka_bootstrap, topic, hostile_variants(valid))
        ledger = Ledger()
        stop = asyncio.Event()
        load = asyncio.create_task(Load(topology, city, ledger, rate=FAULT_RATE).run(stop))
        await asyncio.sleep(10)
        stop.set()
        await load
        await wait_converged(pool, settings)
        letters = await read_topic(settings.kafka_bootstrap, dead_letter_topic(topic))
        reasons: dict[str, list[str]] = defaultdict(list)
        for record in (r for rs in letters.values() for r in rs):
            headers = dict(record.headers)
            assert headers["dlq_topic"] == topic.encode()
            reasons[record.key.decode().removeprefix("hostile:")].append(
                headers["dlq_reason"].decode()
            )
        measured = await settle_and_measure(
            "hostile Kafka records",
            pool,
            topology,
            ledger,
            {"dead letters": sum(len(r) for r in reasons.values())},
            audit_expected_clean=False,
        )
    assert_clean(measured, ledger)
    assert reasons.keys() == REASONS.keys()
    for what, expected in REASONS.items():
        assert len(reasons[what]) == len(ROSTER_CONSUMERS), (what, reasons[what])
        assert all(expected in reason for reason in reasons[what]), (what, reasons[what])
