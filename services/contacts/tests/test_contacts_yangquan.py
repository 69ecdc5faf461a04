"""A year of contacts for a Yangquan-sized roster, logged through the API and published."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import date, timedelta

import pytest

from contacts_driver import Topology
from eventspine.envelope import RecordedEvent
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from eventspine.store.base import CommandContext
from roster import commands as rcmd
from support.kafka_read import read_topic

pytestmark = pytest.mark.integration

LEADERS, COMMITTEE, REPRESENTATIVES, WORKERS = 10, 59, 300, 3000
CTX = CommandContext(actor="staff:import")


async def build_roster(t: Topology) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """The 2019 roster (10 : 59 : 300 : 3,000), linked; returns every (upper, lower) link.

    Built through the roster's command handlers (the HTTP layer is tested elsewhere), so the
    test spends its time where it is about: contacts through the API.
    """
    service = t.roster_state.handlers
    unit = uuid.uuid4()
    await service.register_unit(
        rcmd.RegisterUnit(unit_id=unit, name="阳泉市总工会", kind="city_federation"), CTX
    )
    counter = 0

    async def register(tier: str) -> uuid.UUID:
        nonlocal counter
        counter += 1
        member = uuid.uuid4()
        await service.register_member(
            rcmd.RegisterMember.model_validate(
                {
                    "member_id": member,
                    "unit_id": unit,
                    "tier": tier,
                    "name": f"成员{counter}",
                    "external_number": f"YQ{counter:05d}",
                    "registered_on": "2025-01-01",
                }
            ),
            CTX,
        )
        return member

    tiers = [
        ("leader", LEADERS),
        ("committee", COMMITTEE),
        ("representative", REPRESENTATIVES),
        ("worker", WORKERS),
    ]
    members = {tier: [await register(tier) for _ in range(n)] for tier, n in tiers}
    links = []
    for upper_tier, lower_tier in (
        ("leader", "committee"),
        ("committee", "representative"),
        ("representative", "worker"),
    ):
        uppers = members[upper_tier]
        for index, lower in enumerate(members[lower_tier]):
            upper = uppers[index % len(uppers)]
            await service.link(
                rcmd.LinkMember(
                    upper_member_id=upper,
                    lower_member_id=lower,
                    assigned_on=date(2025, 6, 1),
                    span_override_reason="名册超出目标人数",
                ),
                CTX,
            )
            links.append((upper, lower))
    await t.roster_state.catch_up()
    return links


async def test_a_year_of_contacts_for_the_whole_city_reaches_the_contacts_topic(
    pg_topology: Topology,
) -> None:
    t = pg_topology
    links = await build_roster(t)
    await t.sync()
    days = [date(2026, 1, 5) + timedelta(days=d) for d in range(0, 300, 3)]
    jobs = [
        (upper, lower, days[(i * 7 + k * 50) % len(days)])
        for i, (upper, lower) in enumerate(links)
        for k in range(2)
    ]
    assert len(jobs) > 6_700

    async def log(batch: list[tuple[uuid.UUID, uuid.UUID, date]]) -> list[int]:
        codes = []
        for upper, lower, day in batch:
            answer = await t.contact(str(upper), str(lower), day, method="phone")
            codes.append(answer.status_code)
        return codes

    results = await asyncio.gather(*(log(jobs[w::8]) for w in range(8)))
    assert Counter(code for codes in results for code in codes) == {201: len(jobs)}

    topic = t.settings.topic("contacts")
    await ensure_topics(t.settings, [topic])
    producer = make_producer(t.settings)
    await producer.start()
    try:
        published = await Relay(t.contacts_state.store, producer, topic).drain()
    finally:
        await producer.stop()
    assert published == len(jobs)
    records = await read_topic(t.settings.kafka_bootstrap, topic)
    made = [r for rs in records.values() for r in rs]
    assert len(made) == len(jobs)
    for record in made:
        headers = dict(record.headers)
        assert headers["ce_type"] == b"sanlian.contacts.ContactMade.v1"
        assert headers["ce_specversion"] == b"1.0"
        assert RecordedEvent.from_kafka(record.headers, record.value).data["method"] == "phone"
    links_shown = await t.ok(t.contacts, "GET", f"/members/{links[-1][0]}/links")
    assert all(s["standing"]["status"] == "met" for s in links_shown)
