"""The compliance aggregates answer exactly as the scan of the detail rows does, and a live
run, a rebuild in another order and a backfill from the detail rows leave the same rows.

A scripted city of two years (relinks, departures, moves, tier changes, corrected and
retracted contacts, links that start or end inside a period) is applied event by event as it
happens (live), then again from scratch in big batches with every contact before the roster
(a rebuild reading the topics in another order); on PostgreSQL and on SQLite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import pytest
from aggregates_city import ScriptedCity

from compliance import ContactRule
from escalation import DeadlineSettings
from eventspine.bus import InProcessBus, SqliteTx
from eventspine.projection import Delivered, Tx, deliver
from eventspine.schemas import installed_registry
from eventspine.store.base import Clock, utc_now
from eventspine.store.sqlite import SqliteEventStore
from reports.aggregate_views import AggregateView
from reports.projections.aggregates import TABLES, AggregatedCompliance, backfill
from reports.queue import SuggestionViews
from reports.views import ComplianceView, parse_period
from support.pg import throwaway_prefix

pytestmark = pytest.mark.integration


@dataclass
class ReadModel:
    """Where the projection writes: a handle, its table prefix, and a transaction maker."""

    tx: Tx
    prefix: str
    transaction: Callable[[], AbstractAsyncContextManager[Any]]
    commit: Callable[[], Any]


@pytest.fixture(params=["postgres", "sqlite"])
async def model(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ReadModel]:
    """A read model on PostgreSQL (a throwaway schema), then on SQLite (a file)."""
    if request.param == "sqlite":
        db = await aiosqlite.connect(str(tmp_path / "reports.sqlite"))
        try:
            yield ReadModel(SqliteTx(db), "", nullcontext, db.commit)
        finally:
            await db.close()
        return
    dsn: str = request.getfixturevalue("pg_dsn")
    async with throwaway_prefix(dsn, "g") as prefix:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f"CREATE SCHEMA {prefix}reports")

            async def nothing() -> None:
                return None

            yield ReadModel(conn, f"{prefix}reports.", conn.transaction, nothing)
        finally:
            await conn.close()


@asynccontextmanager
async def scripted(
    tmp_path: Path, clock: Clock = utc_now
) -> AsyncIterator[tuple[ScriptedCity, dict[str, Any]]]:
    registry = installed_registry()
    roster = SqliteEventStore(
        str(tmp_path / "roster-events.sqlite"), "roster", registry, clock=clock
    )
    contacts = SqliteEventStore(
        str(tmp_path / "contacts-events.sqlite"), "contacts", registry, clock=clock
    )
    await roster.open()
    await contacts.open()
    try:
        city = ScriptedCity(roster, contacts)
        yield city, await city.build()
    finally:
        await roster.close()
        await contacts.close()


async def snapshot(model: ReadModel) -> dict[str, list[tuple[Any, ...]]]:
    """Every aggregate row, in a stable order."""
    return {
        table: sorted(
            tuple(r) for r in await model.tx.fetch(f"SELECT * FROM {model.prefix}{table}")
        )
        for table in TABLES
    }


async def apply(
    model: ReadModel, projection: AggregatedCompliance, batches: list[list[Delivered]]
) -> None:
    for batch in batches:
        async with model.transaction():
            await projection.apply_many(model.tx, batch)
        await model.commit()


async def started(model: ReadModel, projection: AggregatedCompliance) -> None:
    """Set up on empty tables, then what the service's feed does when it first finds
    nothing new: from then on each batch brings the aggregates up to date."""
    async with model.transaction():
        await projection.setup(model.tx)
        assert await projection.pending(model.tx)  # new and empty: put off
        await projection.caught_up(model.tx)
    await model.commit()
    assert not await projection.pending(model.tx)


async def rebuilt(
    model: ReadModel, projection: AggregatedCompliance, log: list[tuple[str, list[Delivered]]]
) -> None:
    """A rebuild: emptied, then every contact before any roster event, in big batches, the
    aggregates put off until the feed has caught up."""
    async with model.transaction():
        await projection.reset(model.tx)
    await model.commit()
    contacts = [e for service, events in log if service == "contacts" for e in events]
    roster = [e for service, events in log if service == "roster" for e in events]
    ordered = contacts + roster
    await apply(model, projection, [ordered[i : i + 300] for i in range(0, len(ordered), 300)])
    assert await projection.pending(model.tx)
    put_off = await snapshot(model)
    assert not any(put_off[table] for table in TABLES if table != "agg_meta")
    # Meanwhile the views answer from the detail rows, not from the empty aggregates.
    view = AggregateView(model.tx, projection.aggregates.rule, model.prefix)
    assert await view.linked_members() is None
    assert not await view.covers(projection.aggregates.rule.period_of(date(2026, 1, 1)))
    async with model.transaction():
        await projection.caught_up(model.tx)
    await model.commit()
    assert not await projection.pending(model.tx)


RULES = [
    ContactRule(minimum=2, period_months=12),
    ContactRule(minimum=3, period_months=6),
]


@pytest.mark.parametrize("rule", RULES, ids=["yearly", "half-yearly"])
async def test_the_aggregates_answer_as_the_scan_and_a_rebuild_leaves_the_live_rows(
    model: ReadModel, rule: ContactRule, tmp_path: Path
) -> None:
    registry = installed_registry()
    async with scripted(tmp_path) as (city, who):
        log = [(service, [deliver(r, registry) for r in rs]) for service, rs in city.log]
    projection = AggregatedCompliance(rule, model.prefix)
    await started(model, projection)

    # Live: each append applied on its own, in the order it happened.
    await apply(model, projection, [events for _, events in log])
    live = await snapshot(model)
    assert all(live[table] for table in ("agg_standings", "agg_tallies", "agg_reached"))

    scan = ComplianceView(model.tx, rule, model.prefix)
    aggregates = AggregateView(model.tx, rule, model.prefix)
    fast = ComplianceView(model.tx, rule, model.prefix, aggregates)
    periods = (
        ["2025", "2026"]
        if rule.period_months == 12
        else ["2025-H1", "2025-H2", "2026-H1", "2026-H2"]
    )
    units = [None, *who["counties"], who["enterprises"][0]]
    someone = who["tiers"]["committee"][0]
    filters: list[dict[str, Any]] = [
        {},
        {"tier": "representative"},
        {"status": "none"},
        {"status": "met", "tier": "committee"},
        {"upper_member_id": someone},
    ]
    compared = 0
    for label in periods:
        assert await aggregates.covers(parse_period(label, rule))
        for today in (date(2025, 8, 20), date(2026, 6, 15), date(2027, 2, 1)):
            for unit in units:
                assert await fast.monthly(label, today, unit) == await scan.monthly(
                    label, today, unit
                )
                for chosen in filters:
                    for limit, offset in ((7, 0), (7, 7), (500, 0)):
                        old = await scan.report(
                            label, today, unit_id=unit, limit=limit, offset=offset, **chosen
                        )
                        new = await fast.report(
                            label, today, unit_id=unit, limit=limit, offset=offset, **chosen
                        )
                        assert new == old, (label, today, unit, chosen, offset)
                        compared += bool(old.data)
                    if len(old.data) > 3:  # a keyset page after the fourth link of the last
                        after = old.data[3].link_id
                        kept = await scan.report(
                            label, today, unit_id=unit, limit=5, after=after, **chosen
                        )
                        assert kept.data == old.data[4:9]
                        assert kept == await fast.report(
                            label, today, unit_id=unit, limit=5, after=after, **chosen
                        )
    assert compared > 100  # the comparisons had links to compare
    members = SuggestionViews(model.tx, DeadlineSettings().deadline_policy(), scan, model.prefix)
    counted = await aggregates.linked_members()
    assert counted == await members.linked_members()
    below_the_top = sum(len(who["tiers"][t]) for t in ("committee", "representative", "worker"))
    assert 0 < sum(counted.values()) < below_the_top  # the departed are not linked

    # A rebuild: the views scan while the aggregates are put off, then the same rows.
    horizon = await projection.aggregates.horizon(model.tx)
    await rebuilt(model, projection, log)
    assert await snapshot(model) == live

    # The same rows computed from the detail rows alone (up to the live run's horizon: it
    # also counts when the events were recorded, which is today for this city).
    async with model.transaction():
        await backfill(model.tx, rule, model.prefix, horizon)
    await model.commit()
    assert await snapshot(model) == live


async def test_a_rebuild_materialises_the_periods_its_events_were_recorded_in(
    model: ReadModel, tmp_path: Path
) -> None:
    """A city recorded long after its dates (a history typed in late): the live run's horizon
    is the recording's period, and a rebuild that puts the aggregates off keeps it."""
    registry = installed_registry()
    rule = RULES[0]
    recorded = datetime(2028, 3, 1, 9, tzinfo=UTC)
    async with scripted(tmp_path, lambda: recorded) as (city, _):
        log = [(service, [deliver(r, registry) for r in rs]) for service, rs in city.log]
    projection = AggregatedCompliance(rule, model.prefix)
    await started(model, projection)
    await apply(model, projection, [events for _, events in log])
    live = await snapshot(model)
    assert await projection.aggregates.horizon(model.tx) == date(2028, 1, 1)
    assert "2028-01-01" in {row[0] for row in live["agg_standings"]}

    await rebuilt(model, projection, log)
    assert await snapshot(model) == live

    # From the detail rows' dates alone the horizon would be earlier: the rebuild carried it.
    async with model.transaction():
        await backfill(model.tx, rule, model.prefix)
    await model.commit()
    assert await snapshot(model) != live


async def test_the_in_process_bus_computes_the_aggregates_it_put_off_once_caught_up(
    tmp_path: Path,
) -> None:
    """The embedded feed: a new read model fed from stores that already hold a city counts
    as behind until the aggregates are computed, and they are the live run's."""
    registry = installed_registry()
    rule = RULES[0]
    async with scripted(tmp_path) as (city, _):
        log = [(service, [deliver(r, registry) for r in rs]) for service, rs in city.log]
        projection = AggregatedCompliance(rule)
        bus = InProcessBus(
            [city.roster, city.contacts], [projection], str(tmp_path / "bus.sqlite"), batch_size=100
        )
        await bus.open()
        try:
            assert await bus.behind() > 0
            await bus.drain()
            assert await bus.behind() == 0
            fed = ReadModel(SqliteTx(bus.db), "", nullcontext, bus.db.commit)
            assert not await projection.pending(fed.tx)
            by_bus = await snapshot(fed)
        finally:
            await bus.close()
    db = await aiosqlite.connect(str(tmp_path / "live.sqlite"))
    try:
        model = ReadModel(SqliteTx(db), "", nullcontext, db.commit)
        live = AggregatedCompliance(rule)
        await started(model, live)
        await apply(model, live, [events for _, events in log])
        assert by_bus["agg_standings"]
        assert by_bus == await snapshot(model)
    finally:
        await db.close()
