"""Pages' server time: the staff dashboard and a county's drill-down at the demo city's size
and at a city 100 times larger, read from the compliance aggregates, against the scan.

Each city is built through the event stores (batched appends of the roster's and the contacts
service's events, shaped like ``web.demo``: 5 counties with their enterprise unions, 10 / 59 /
300 / 3,000 members per tier times the scale, every member linked on 1 March 2025, 2, 1 or 0
contacts a link in 2026) and through the compliance projection (the stores read in order and
applied in batches, as a rebuild does, then its aggregates computed from those rows by its
backfill); the reports app then answers in-process. The city has no suggestions: the queue's
and the overview's suggestion figures are measured empty. A page's server
time is the sum of the reports requests the web frontend makes for it, each timed from the
request to its last byte, with no network and no client process in between.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import httpx

from bench.reports import _append, _clock, _drop, _roster_and_contacts, _settings
from bench.servers import bearer
from bench.table import Row
from contracts.contacts import ContactMade
from contracts.roster import MemberAssigned, MemberRegistered, UnitRegistered
from eventspine.config import Settings
from eventspine.events import DomainEvent
from eventspine.projection import deliver
from eventspine.schemas import installed_registry
from eventspine.store.postgres import PostgresEventStore, connect_pool
from reports.bootstrap import contact_rule
from reports.main import create_app
from reports.projections import SuggestionProjection
from reports.projections.aggregates import AggregatedCompliance, backfill

TIERS = {"leader": 10, "committee": 59, "representative": 300, "worker": 3000}


async def build_city(settings: Settings, scale: float, seed: int = 15510) -> dict[str, Any]:
    """Append a city ``scale`` times the demo's to the roster and contacts stores."""
    rng = random.Random(seed)
    async with _roster_and_contacts(settings) as (roster, contacts):
        city = uuid.uuid4()
        units: dict[str, list[DomainEvent]] = {
            f"unit-{city}": [UnitRegistered(unit_id=city, name="市总工会", kind="city_federation")]
        }
        counties, leaves = [], [city]
        # The demo's 2 enterprise unions a county, more as the city grows.
        per_county = max(2, round(2 * scale**0.5))
        for c in range(5):
            county = uuid.uuid4()
            counties.append(county)
            units[f"unit-{county}"] = [
                UnitRegistered(
                    unit_id=county, name=f"县{c}", kind="county_union", parent_unit_id=city
                )
            ]
            for e in range(per_county):
                enterprise = uuid.uuid4()
                leaves.append(enterprise)
                units[f"unit-{enterprise}"] = [
                    UnitRegistered(
                        unit_id=enterprise,
                        name=f"企业{c}-{e}",
                        kind="enterprise_union",
                        parent_unit_id=county,
                    )
                ]
        await _append(roster, units)
        members: dict[str, list[UUID]] = {}
        registrations: dict[str, list[DomainEvent]] = {}
        for tier, size in TIERS.items():
            members[tier] = [uuid.uuid4() for _ in range(max(1, round(size * scale)))]
            for member in members[tier]:
                registrations[f"member-{member}"] = [
                    MemberRegistered.model_validate(
                        {
                            "member_id": member,
                            "unit_id": city if tier == "leader" else rng.choice(leaves),
                            "tier": tier,
                            "personal_data": "v1.x",
                            "number_index": "0" * 64,
                            "registered_on": "2025-01-02",
                        }
                    )
                ]
        await _append(roster, registrations)
        assignments: dict[str, list[DomainEvent]] = {}
        for upper_tier, lower_tier in (
            ("leader", "committee"),
            ("committee", "representative"),
            ("representative", "worker"),
        ):
            uppers = members[upper_tier]
            for index, lower in enumerate(members[lower_tier]):
                assignments[f"link-{lower}"] = [
                    MemberAssigned(
                        member_id=lower,
                        upper_member_id=uppers[index % len(uppers)],
                        tier=lower_tier,
                        assigned_on=date(2025, 3, 1),
                    )
                ]
        recorded = await _append(roster, assignments)
        made: dict[str, list[DomainEvent]] = {}
        for event in recorded:
            for _ in range(rng.choices((2, 1, 0), weights=(60, 25, 15))[0]):
                contact = uuid.uuid4()
                made[f"contact-{contact}"] = [
                    ContactMade(
                        contact_id=contact,
                        link_id=event.id,
                        upper_member_id=UUID(event.data["upper_member_id"]),
                        lower_member_id=UUID(event.data["member_id"]),
                        contacted_on=date(2026, 1, 1) + timedelta(days=rng.randrange(322)),
                        method="visit",
                        initiated_by="upper",
                    )
                ]
        await _append(contacts, made)
        return {"city": city, "counties": counties, "links": len(recorded), "contacts": len(made)}


async def project(settings: Settings) -> int:
    """Apply both stores' events to the reports' projections, in batches (as a rebuild)."""
    registry = installed_registry()
    schema = settings.store_schema("reports")
    pool = await connect_pool(settings.pg_dsn, max_size=2)
    compliance = AggregatedCompliance(contact_rule(settings), f"{schema}.")
    applied = 0
    try:
        async with pool.acquire() as conn:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            await compliance.setup(conn)
            # The queue's and the overview's tables (no suggestions in this city).
            await SuggestionProjection(f"{schema}.").setup(conn)
            for service in ("roster", "contacts"):
                store = PostgresEventStore(
                    settings.pg_dsn, service, registry, schema=settings.store_schema(service)
                )
                await store.open()
                try:
                    position = 0
                    while records := await store.read_all(position, 5000):
                        events = [deliver(r, registry) for r in records]
                        async with conn.transaction():
                            await compliance.inner.apply_many(conn, events)
                        applied += len(events)
                        position = records[-1].position
                finally:
                    await store.close()
            # The aggregates by the projection's own backfill from the rows just written
            # (what a live run and a rebuild arrive at, tests/test_compliance_aggregates.py):
            # each link computed once rather than at each batch that touches it.
            async with conn.transaction():
                await backfill(conn, compliance.aggregates.rule, f"{schema}.")
    finally:
        await pool.close()
    return applied


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * 0.95 + 0.5) - 1))]


PAGES: dict[str, Callable[[str | None], list[tuple[str, dict[str, Any]]]]] = {
    # What services/web's dashboard asks the reports service for (the city's, or a unit's).
    "dashboard": lambda unit: [
        ("/compliance", {"period": "2026", "limit": 20, **({"unit_id": unit} if unit else {})}),
        ("/compliance/monthly", {"period": "2026", **({"unit_id": unit} if unit else {})}),
        ("/overview", {"period": "2026"}),
        ("/themes", {"period": "2026"}),
        ("/escalation-queue", {"limit": 1, **({"unit_id": unit} if unit else {})}),
    ],
}


async def _time_page(
    client: httpx.AsyncClient, unit: str | None, rounds: int
) -> tuple[list[float], dict[str, float]]:
    totals: list[float] = []
    each: dict[str, list[float]] = {}
    for _ in range(rounds):
        total = 0.0
        for path, params in PAGES["dashboard"](unit):
            started = time.perf_counter()
            answer = await client.get(path, params=params)
            spent = time.perf_counter() - started
            assert answer.status_code == 200, (path, answer.text)
            total += spent
            each.setdefault(path, []).append(spent)
        totals.append(total)
    return totals, {path: _p95(times) for path, times in each.items()}


async def _measure(
    settings: Settings, county: str, rounds: int, scan_rounds: int
) -> dict[str, Any]:
    app = create_app(settings, _clock)
    result: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://reports",
            headers={"Authorization": bearer(settings)},
        ) as client:
            for name, unit in (("dashboard", None), ("drilldown", county)):
                await _time_page(client, unit, 2)  # warm: statements prepared, caches filled
                totals, each = await _time_page(client, unit, rounds)
                result[name] = {"p95": _p95(totals), "p50": sorted(totals)[len(totals) // 2]}
                result[name]["each"] = each
            views = app.state.reports.live.views
            aggregates, views.aggregates = views.aggregates, None  # the scan, as before
            try:
                for name, unit in (("dashboard", None), ("drilldown", county)):
                    if scan_rounds:
                        totals, _ = await _time_page(client, unit, scan_rounds)
                        result[name]["scan_p95"] = _p95(totals)
            finally:
                views.aggregates = aggregates
    return result


async def pages(
    dsn: str, bootstrap: str, base_scale: float, rounds: int, scan_rounds: int
) -> list[Row]:
    """The rows: the dashboard and a county drill-down at ``base_scale`` times the demo city
    (against the scan) and at 100 times that (against the same page at 1x); each page
    ``rounds`` times from the aggregates, ``scan_rounds`` times by the scan at 100x (which
    takes seconds a page there) and ``rounds`` times at 1x."""
    measured: dict[float, dict[str, Any]] = {}
    for scale in (base_scale, base_scale * 100):
        settings = _settings(dsn, bootstrap)
        pool = await connect_pool(dsn, max_size=1)
        try:
            started = time.perf_counter()
            city = await build_city(settings, scale)
            appended = time.perf_counter() - started
            events = await project(settings)
            projected = time.perf_counter() - started - appended
            print(
                f"  pages: {city['links']:,} links, {events:,} events appended in "
                f"{appended:.0f} s, projected in {projected:.0f} s",
                flush=True,
            )
            scans = rounds if scale == base_scale else scan_rounds
            measured[scale] = {
                **city,
                **await _measure(settings, str(city["counties"][0]), rounds, scans),
            }
        finally:
            await _drop(pool, settings)
            await pool.close()
    small, large = measured[base_scale], measured[base_scale * 100]
    rows = []
    for name, words in (("dashboard", "staff dashboard"), ("drilldown", "a county's drill-down")):
        s, g = small[name], large[name]
        rows.append(
            Row(
                f"pages_{name}_1x",
                f"10. pages: {words}, server time p95, {small['links']:,} links",
                "s",
                s["p95"],
                s.get("scan_p95", 0.0),
                "the scan of the links (before the aggregates)",
                0.1,
                {"p50": s["p50"], **{f"p95 {path}": v for path, v in s["each"].items()}},
                quantile="p95",
            )
        )
        rows.append(
            Row(
                f"pages_{name}_100x",
                f"10. pages: {words} at 100x, {large['links']:,} links "
                f"(100x/1x = {g['p95'] / s['p95']:.2f})",
                "s",
                g["p95"],
                s["p95"],
                f"the same page at 1x ({small['links']:,} links)",
                0.3,
                {
                    "p50": g["p50"],
                    "baseline_p50": s["p50"],
                    "ratio_100x_over_1x": g["p95"] / s["p95"],
                    **({"scan_p95": g["scan_p95"]} if "scan_p95" in g else {}),
                    **{f"p95 {path}": v for path, v in g["each"].items()},
                },
                quantile="p95",
            )
        )
    return rows
