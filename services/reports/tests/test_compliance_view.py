"""The compliance view from real topics: a scripted year gives exactly the scripted figures."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest

from contacts import commands as ccmd
from contacts_driver import Topology, fixed_clock, topology
from eventspine.config import Settings
from eventspine.consumer import ProjectionRunner
from eventspine.kafka import ensure_topics, make_consumer, make_producer
from eventspine.relay import Relay
from eventspine.replica import KafkaFeed
from eventspine.store.base import CommandContext
from reports.bootstrap import contact_rule
from reports.main import create_app as reports_app
from reports.projections.aggregates import TABLES as AGGREGATES
from reports.projections.aggregates import AggregatedCompliance
from reports.projections.compliance import TABLES
from roster import commands as rcmd
from support.auth import STAFF

pytestmark = pytest.mark.integration
CTX = CommandContext(actor="staff:script")
PATTERN = ("met", "behind", "none")


@asynccontextmanager
async def reports_client(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    app = reports_app(settings, fixed_clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://reports", headers=STAFF
        ) as client:
            yield client, app.state.reports


async def script_year(t: Topology) -> dict[str, Any]:
    """Units, 2 leaders, 6 committee, 20 representatives, 100 workers; contacts by pattern."""
    roster, contacts = t.roster_state.handlers, t.contacts_state.handlers
    city = uuid.uuid4()
    await roster.register_unit(
        rcmd.RegisterUnit(unit_id=city, name="市总", kind="city_federation"), CTX
    )
    counties = [uuid.uuid4() for _ in range(2)]
    for county in counties:
        await roster.register_unit(
            rcmd.RegisterUnit(
                unit_id=county, name=f"县{county.hex[:4]}", kind="county_union", parent_unit_id=city
            ),
            CTX,
        )
    number = 0

    async def member(unit: uuid.UUID, tier: str) -> uuid.UUID:
        nonlocal number
        number += 1
        member_id = uuid.uuid4()
        await roster.register_member(
            rcmd.RegisterMember.model_validate(
                {
                    "member_id": member_id,
                    "unit_id": unit,
                    "tier": tier,
                    "name": f"人{number}",
                    "external_number": f"E{number}",
                    "registered_on": "2025-01-01",
                }
            ),
            CTX,
        )
        return member_id

    leaders = [await member(city, "leader") for _ in range(2)]
    committee = [await member(counties[i % 2], "committee") for i in range(6)]
    reps = [await member(counties[i % 2], "representative") for i in range(20)]
    workers = [await member(counties[i % 2], "worker") for i in range(100)]
    links: list[tuple[uuid.UUID, uuid.UUID, str]] = []
    for uppers, lowers, tier in (
        (leaders, committee, "leader"),
        (committee, reps, "committee"),
        (reps, workers, "representative"),
    ):
        for i, lower in enumerate(lowers):
            upper = uppers[i % len(uppers)]
            await roster.link(
                rcmd.LinkMember(
                    upper_member_id=upper,
                    lower_member_id=lower,
                    assigned_on=date(2025, 6, 1),
                    span_override_reason="脚本",
                ),
                CTX,
            )
            links.append((upper, lower, tier))
    await t.sync()
    expected: Counter[str] = Counter()
    by_tier: dict[str, Counter[str]] = {}
    for index, (upper, lower, tier) in enumerate(links):
        outcome = PATTERN[index % 3]
        expected[outcome] += 1
        by_tier.setdefault(tier, Counter())[outcome] += 1
        days = {
            "met": [date(2026, 3, 1), date(2026, 8, 1)],
            "behind": [date(2026, 5, 5)],
            "none": [],
        }[outcome]
        for day in days:
            await contacts.log_contact(
                ccmd.LogContact(
                    upper_member_id=upper, lower_member_id=lower, contacted_on=day, method="visit"
                ),
                CTX,
            )
    # A contact retracted and one in the previous year change nothing for 2026.
    upper, lower, _ = links[2]
    made = await contacts.log_contact(
        ccmd.LogContact(
            upper_member_id=upper,
            lower_member_id=lower,
            contacted_on=date(2025, 12, 1),
            method="phone",
        ),
        CTX,
    )
    assert made
    return {"total": expected, "by_tier": by_tier, "links": len(links)}


async def publish(t: Topology, service: str) -> None:
    topic = t.settings.topic(service)
    await ensure_topics(t.settings, [topic])
    producer = make_producer(t.settings)
    await producer.start()
    try:
        state = t.roster_state if service == "roster" else t.contacts_state
        await Relay(state.store, producer, topic).drain()
    finally:
        await producer.stop()


async def test_a_scripted_year_gives_exactly_the_scripted_compliance_figures(
    pg_settings: Settings,
) -> None:
    async with topology(pg_settings) as t:
        script = await script_year(t)
        await publish(t, "roster")
        await publish(t, "contacts")
        async with reports_client(pg_settings) as (client, state):
            assert await state.feed.catch_up(60.0)
            answer = await client.get("/compliance", params={"period": "2026", "limit": 500})
            assert answer.status_code == 200, answer.text
            report = answer.json()
            total = script["total"]
            assert report["city"] == {
                "links": script["links"],
                "met": total["met"],
                "behind": total["behind"],
                "none": total["none"],
                "compliance_pct": round(total["met"] / script["links"] * 100, 1),
            }
            tiers = {g["key"]: g["tally"] for g in report["by_tier"]}
            for tier, counts in script["by_tier"].items():
                assert (tiers[tier]["met"], tiers[tier]["behind"], tiers[tier]["none"]) == (
                    counts["met"],
                    counts["behind"],
                    counts["none"],
                )
            assert [row["status"] for row in report["data"]][:1] == ["none"]
            behind = await client.get("/compliance", params={"period": "2026", "status": "behind"})
            assert behind.json()["count"] == total["behind"]
            exported = await client.get("/compliance/export", params={"period": "2026"})
            assert exported.content.decode("utf-8-sig").count("\n") == script["links"] + 1
            # The export honours the view's filters: the behind links only.
            exported = await client.get(
                "/compliance/export", params={"period": "2026", "status": "behind"}
            )
            lines = exported.content.decode("utf-8-sig").splitlines()
            assert len(lines) == total["behind"] + 1
            assert all(",behind," in line for line in lines[1:])
            bad_queries: list[tuple[dict[str, str], int]] = [
                ({"period": "2026-13"}, 422),
                ({"period": "26"}, 422),
                ({"period": "2026-H1"}, 422),
                ({"period": "2026", "limit": "0"}, 422),
                ({"period": "2026", "unit_id": str(uuid.uuid4())}, 404),
            ]
            for bad, code in bad_queries:
                refused = await client.get("/compliance", params=bad)
                assert refused.status_code == code, (bad, refused.text)
            ready = (await client.get("/ready")).json()
            assert ready["events_behind"] == 0
            metrics = (await client.get("/metrics")).text
            assert 'sanlian_feed_lag_events{service="reports"} 0.0' in metrics

            # Events delivered twice change no figure.
            await publish_again(t)
            assert await state.feed.catch_up(60.0)
            again = await client.get("/compliance", params={"period": "2026", "limit": 500})
            assert again.json() == report

        # A rebuild from offset 0 into a fresh schema, as the service rebuilds (the detail
        # rows, the aggregates put off until caught up), equals the live projection, whose
        # aggregates were kept up to date event by event.
        live = await tables(pg_settings, "reports")
        assert live["agg_standings"]
        assert await rebuilt_tables(pg_settings) == live


async def tables(settings: Settings, service: str) -> dict[str, list[str]]:
    """Every row of the compliance projection's tables and aggregates, sorted, as text."""
    schema = settings.store_schema(service)
    conn = await asyncpg.connect(settings.pg_dsn)
    try:
        return {
            table: sorted(
                str(tuple(r)) for r in await conn.fetch(f"SELECT * FROM {schema}.{table}")
            )
            for table in (*TABLES, *AGGREGATES)
        }
    finally:
        await conn.close()


async def rebuilt_tables(settings: Settings) -> dict[str, list[str]]:
    """Rebuild the projection from offset 0 under another name and schema; its rows."""
    schema = settings.store_schema("reports_rebuild")
    pool = await asyncpg.create_pool(settings.pg_dsn, min_size=1, max_size=2)
    try:
        projection = AggregatedCompliance(
            contact_rule(settings), f"{schema}.", name="reports.compliance.rebuild"
        )
        topics = [settings.topic(s) for s in projection.services]
        runner = ProjectionRunner(
            projection,
            pool,
            lambda group, names: make_consumer(settings, group, *names),
            topics,
            schema=schema,
        )
        feed = KafkaFeed(runner)
        await feed.start()
        try:
            assert await feed.catch_up(60.0)  # the aggregates too: they count as behind
            assert not await projection.pending(pool)
        finally:
            await feed.stop()
    finally:
        await pool.close()
    return await tables(settings, "reports_rebuild")


async def publish_again(t: Topology) -> None:
    """What a relay that crashed before its checkpoint does: publish everything once more."""
    for service, state in (("roster", t.roster_state), ("contacts", t.contacts_state)):
        producer = make_producer(t.settings)
        await producer.start()
        try:
            for event in await state.store.read_all(0, 100_000):
                await producer.send(
                    t.settings.topic(service),
                    event.kafka_value(),
                    key=event.stream_id.encode(),
                    headers=event.kafka_headers(),
                )
            await producer.flush()
        finally:
            await producer.stop()
