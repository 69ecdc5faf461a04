"""A rebuild from the first event beside the live projections, swapped in without a pause.

Both backends: full topology (a fresh PostgreSQL schema and new consumer groups) and the
embedded default (a second SQLite file fed by its own bus). While the rebuild runs the live
projections keep answering; after the swap the answers are the same, the pointer names the
new generation, the old and new rows are equal, and new events reach the swapped-in one.

Two instances (two reports apps on one PostgreSQL and Kafka, sharing nothing else): while one
rebuilds, the other refuses a second rebuild and tells the same status; it follows the swap
(its readers and its feed), and both answer new events alike from the new generation. A
rebuild whose claim session ended is told as abandoned, neither swaps nor overwrites the
record of the next one, and its instance follows the next one's swap.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import httpx
import pytest
from test_compliance_view import publish, reports_client, script_year

from contacts import commands as ccmd
from contacts_driver import Topology, topology
from eventspine.config import Settings
from eventspine.store.base import CommandContext
from reports.projections.compliance import TABLES as COMPLIANCE_TABLES
from reports.projections.suggestions import TABLES as SUGGESTION_TABLES

pytestmark = pytest.mark.integration
CTX = CommandContext(actor="staff:script")
TABLES = [*COMPLIANCE_TABLES, *SUGGESTION_TABLES]


async def publish_all(t: Topology) -> None:
    """Full topology: relay the roster's and the contacts' stores to their topics."""
    if t.settings.store_backend == "postgres":
        await publish(t, "roster")
        await publish(t, "contacts")


async def answers(client: httpx.AsyncClient) -> dict[str, Any]:
    """The live answers the rebuild must not change."""
    result = {}
    for url, params in (
        ("/compliance", {"period": "2026", "limit": "500"}),
        ("/escalation-queue", {"limit": "500"}),
        ("/overview", {"period": "2026"}),
    ):
        answer = await client.get(url, params=params)
        assert answer.status_code == 200, answer.text
        result[url] = answer.json()
    return result


async def rebuild_status(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.get("/admin/rebuild")
    assert answer.status_code == 200, answer.text
    status: dict[str, Any] = answer.json()
    return status


async def rows(settings: Settings, location: str) -> dict[str, list[str]]:
    """Every row of both projections in one generation (a schema or a file), sorted, as text."""
    if settings.store_backend == "postgres":
        conn = await asyncpg.connect(settings.pg_dsn)
        try:
            return {
                table: sorted(
                    str(tuple(r)) for r in await conn.fetch(f"SELECT * FROM {location}.{table}")
                )
                for table in TABLES
            }
        finally:
            await conn.close()
    async with aiosqlite.connect(Path(settings.sqlite_dir) / location) as db:
        found = {}
        for table in TABLES:
            async with db.execute(f"SELECT * FROM {table}") as cursor:
                found[table] = sorted(str(tuple(r)) for r in await cursor.fetchall())
        return found


async def pointer(settings: Settings) -> str:
    """The generation the service opens at start."""
    if settings.store_backend == "postgres":
        conn = await asyncpg.connect(settings.pg_dsn)
        try:
            schema: str = await conn.fetchval(
                f"SELECT schema FROM {settings.store_schema('reports')}.current_generation"
            )
            return schema
        finally:
            await conn.close()
    return (Path(settings.sqlite_dir) / "reports.current").read_text("utf-8").strip()


async def test_a_rebuild_is_swapped_in_while_the_live_projections_keep_answering(
    backend: Settings,
) -> None:
    settings = backend
    full = settings.store_backend == "postgres"
    first = settings.store_schema("reports") if full else "reports.sqlite"
    async with topology(settings) as t:
        script = await script_year(t)
        await publish_all(t)
        async with reports_client(settings) as (client, state):
            assert await state.feed.catch_up(60.0)
            before = await answers(client)
            assert before["/compliance"]["city"]["links"] == script["links"]
            assert (await client.get("/admin/rebuild")).status_code == 404

            # The rebuild waits, caught up, before its swap until a live answer was served.
            gate, point = asyncio.Event(), state.backend.point

            async def gated_point(*args: Any) -> None:
                await gate.wait()
                await point(*args)

            state.backend.point = gated_point
            clock = time.monotonic()
            started = await client.post("/admin/rebuild")
            assert started.status_code == 202, started.text
            rebuild = started.json()
            assert rebuild["state"] == "running"
            assert rebuild["previous"] == first
            target = rebuild["target"]
            assert target == (
                f"{first}_r{rebuild['id']}" if full else f"reports-r{rebuild['id']}.sqlite"
            )

            # One rebuild at a time.
            second = await client.post("/admin/rebuild")
            assert second.status_code == 409, second.text
            assert second.json()["code"] == "rebuild_running"

            # The live projections answer (the same) all along.
            served_while_running, progress = 0, set()
            while (status := await rebuild_status(client))["state"] == "running":
                progress.add(status["events_behind"])
                assert await answers(client) == before
                if (await rebuild_status(client))["state"] == "running":
                    served_while_running += 1
                    gate.set()
                assert time.monotonic() - clock < 120, status
                await asyncio.sleep(0.02)
            elapsed = time.monotonic() - clock
            print(f"{settings.store_backend}: rebuilt and swapped in {elapsed:.2f} s")
            assert status["state"] == "swapped", status
            assert status["error"] is None
            assert served_while_running >= 1
            assert progress - {None}, progress  # the new projections' lag, while known

            # Swapped: the same answers, from the new generation, which the pointer names.
            assert state.live.target.location == target
            assert await answers(client) == before
            assert (await client.get("/ready")).json()["events_behind"] == 0
            assert await pointer(settings) == target
            old_rows, new_rows = await rows(settings, first), await rows(settings, target)
            assert new_rows == old_rows
            assert len(new_rows["r_links"]) == script["links"]

            # New events reach the swapped-in projection (and no longer the retired one).
            behind = [row for row in before["/compliance"]["data"] if row["status"] == "behind"][:3]
            assert len(behind) == 3
            for row in behind:
                await t.contacts_state.handlers.log_contact(
                    ccmd.LogContact(
                        upper_member_id=row["upper_member_id"],
                        lower_member_id=row["lower_member_id"],
                        contacted_on=date(2026, 9, 1),
                        method="visit",
                    ),
                    CTX,
                )
            await publish_all(t)
            assert await state.feed.catch_up(60.0)
            after = await answers(client)
            city, was = after["/compliance"]["city"], before["/compliance"]["city"]
            assert (city["met"], city["behind"], city["none"]) == (
                was["met"] + 3,
                was["behind"] - 3,
                was["none"],
            )
            now_met = {
                row["link_id"] for row in after["/compliance"]["data"] if row["status"] == "met"
            }
            assert {row["link_id"] for row in behind} <= now_met
            assert (await rows(settings, first))["r_contacts"] == old_rows["r_contacts"]
            assert len((await rows(settings, target))["r_contacts"]) == (
                len(old_rows["r_contacts"]) + 3
            )

        # A restart opens the generation the pointer names.
        async with reports_client(settings) as (client, state):
            assert state.live.target.location == target
            assert await state.feed.catch_up(60.0)
            assert await answers(client) == after


async def generations(settings: Settings) -> set[str]:
    """The generations the backend holds: schemas with projection tables, or files."""
    if settings.store_backend == "postgres":
        conn = await asyncpg.connect(settings.pg_dsn)
        try:
            found = await conn.fetch(
                "SELECT DISTINCT schemaname FROM pg_tables WHERE left(schemaname, length($1)) = $1"
                " AND tablename = 'r_links'",
                settings.store_schema("reports"),
            )
            return {row[0] for row in found}
        finally:
            await conn.close()
    folder = Path(settings.sqlite_dir)
    return set(await asyncio.to_thread(lambda: [p.name for p in folder.glob("reports*.sqlite*")]))


async def test_repeated_rebuilds_keep_the_live_and_the_previous_generation_only(
    backend: Settings,
) -> None:
    settings = backend
    full = settings.store_backend == "postgres"
    first = settings.store_schema("reports") if full else "reports.sqlite"
    async with topology(settings) as t:
        await script_year(t)
        await publish_all(t)
        async with reports_client(settings) as (client, state):
            assert await state.feed.catch_up(60.0)
            before = await answers(client)
            assert await generations(settings) >= {first}
            done = []
            for _ in range(3):
                started = await client.post("/admin/rebuild")
                assert started.status_code == 202, started.text
                await state.rebuilds.wait()
                status = await rebuild_status(client)
                assert status["state"] == "swapped", status
                assert status["error"] is None, status
                done.append(status)
            locations = [first] + [status["target"] for status in done]
            assert [(s["kept"], s["dropped"]) for s in done] == [
                ([locations[1], locations[0]], []),
                ([locations[2], locations[1]], [locations[0]]),
                ([locations[3], locations[2]], [locations[1]]),
            ]
            held = await generations(settings)
            if full:
                assert held == {locations[3], locations[2]}
            else:  # each file may have its WAL and shared-memory files beside it
                assert {name.split(".sqlite")[0] + ".sqlite" for name in held} == {
                    locations[3],
                    locations[2],
                }
            assert await pointer(settings) == locations[3]
            assert await answers(client) == before
            # The previous generation is still there to compare with, row for row.
            assert await rows(settings, locations[2]) == await rows(settings, locations[3])

        # A restart opens the live generation, and the next rebuild drops the oldest.
        async with reports_client(settings) as (client, state):
            assert state.live.target.location == locations[3]
            assert await state.feed.catch_up(60.0)
            assert (await client.post("/admin/rebuild")).status_code == 202
            await state.rebuilds.wait()
            status = await rebuild_status(client)
            assert status["dropped"] == [locations[2]], status
            assert await answers(client) == before


def assigned(state: Any) -> list[set[tuple[str, int]]]:
    """Per projection of the generation an instance serves: the partitions its runner holds."""
    found = []
    for feed in state.live.feed.feeds:
        consumer = feed.runner._consumer
        held = consumer.assignment() if consumer is not None else set()
        found.append({(tp.topic, tp.partition) for tp in held})
    return found


async def until(check: Any, seconds: float = 60.0) -> None:
    """Wait until ``check()`` is true (it may be a coroutine function), at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (await check() if asyncio.iscoroutinefunction(check) else check()):
        assert time.monotonic() < deadline, f"not within {seconds} s"
        await asyncio.sleep(0.05)


def gate_point(state: Any) -> tuple[asyncio.Event, asyncio.Event]:
    """Hold an instance's rebuild, caught up, before its swap: (reached, open the gate)."""
    reached, gate, point = asyncio.Event(), asyncio.Event(), state.backend.point

    async def gated_point(*args: Any) -> None:
        reached.set()
        await gate.wait()
        await point(*args)

    state.backend.point = gated_point
    return reached, gate


async def log_contacts(t: Topology, links: list[dict[str, Any]]) -> None:
    """A contact on each of ``links`` (compliance rows), relayed to the topics."""
    for row in links:
        await t.contacts_state.handlers.log_contact(
            ccmd.LogContact(
                upper_member_id=row["upper_member_id"],
                lower_member_id=row["lower_member_id"],
                contacted_on=date(2026, 9, 1),
                method="visit",
            ),
            CTX,
        )
    await publish_all(t)


async def test_with_two_instances_one_rebuilds_and_both_answer_from_the_new_generation(
    pg_settings: Settings,
) -> None:
    settings = pg_settings
    first = settings.store_schema("reports")
    async with topology(settings) as t:
        script = await script_year(t)
        await publish_all(t)
        async with reports_client(settings) as (a, on_a), reports_client(settings) as (b, on_b):
            assert await on_a.feed.catch_up(60.0)
            assert await on_b.feed.catch_up(60.0)
            before = await answers(a)
            assert before["/compliance"]["city"]["links"] == script["links"]
            assert await answers(b) == before

            reached, gate = gate_point(on_a)
            started = await a.post("/admin/rebuild")
            assert started.status_code == 202, started.text
            rebuild = started.json()
            target = rebuild["target"]
            assert (rebuild["previous"], target) == (first, f"{first}_r{rebuild['id']}")

            # One rebuild at a time across the instances: B refuses one beside A's, and tells
            # A's (all but its progress, which only A knows).
            for client in (b, a):
                second = await client.post("/admin/rebuild")
                assert second.status_code == 409, second.text
                assert second.json()["code"] == "rebuild_running"
            await reached.wait()
            told_by_a, told_by_b = await rebuild_status(a), await rebuild_status(b)
            assert told_by_a["events_behind"] is not None
            assert told_by_b == {**told_by_a, "events_behind": None}
            assert told_by_b["state"] == "running"

            gate.set()
            done = await on_a.rebuilds.wait()
            assert done is not None
            assert done.state == "swapped", done
            assert on_a.live.target.location == target
            assert await pointer(settings) == target

            # B follows the swap: its readers and its feed move to the new generation, whose
            # consumer groups the two instances now share.
            await until(lambda: on_b.live.target.location == target, 30.0)
            await until(
                lambda: all(
                    mine and theirs and not mine & theirs
                    for mine, theirs in zip(assigned(on_a), assigned(on_b), strict=True)
                )
            )
            told_by_a, told_by_b = await rebuild_status(a), await rebuild_status(b)
            assert told_by_a == told_by_b
            assert (told_by_b["state"], told_by_b["kept"]) == ("swapped", [target, first])
            assert await answers(a) == before
            assert await answers(b) == before

            # New events reach the new generation through both instances, and no longer the
            # old one (neither instance feeds it any more): A and B answer them alike.
            old_rows = await rows(settings, first)
            behind = [row for row in before["/compliance"]["data"] if row["status"] == "behind"]
            await log_contacts(t, behind[:3])
            assert await on_a.feed.catch_up(60.0)
            assert await on_b.feed.catch_up(60.0)
            after_a, after_b = await answers(a), await answers(b)
            assert after_a == after_b
            city, was = after_b["/compliance"]["city"], before["/compliance"]["city"]
            assert (city["met"], city["behind"], city["none"]) == (
                was["met"] + 3,
                was["behind"] - 3,
                was["none"],
            )
            assert await rows(settings, first) == old_rows
            assert len((await rows(settings, target))["r_contacts"]) == (
                len(old_rows["r_contacts"]) + 3
            )


async def test_a_rebuild_whose_claim_is_lost_neither_swaps_nor_hides_the_next_one(
    pg_settings: Settings,
) -> None:
    settings = pg_settings
    first = settings.store_schema("reports")
    async with topology(settings) as t:
        await script_year(t)
        await publish_all(t)
        async with reports_client(settings) as (a, on_a), reports_client(settings) as (b, on_b):
            assert await on_a.feed.catch_up(60.0)
            before = await answers(a)
            reached, gate = gate_point(on_a)
            started = await a.post("/admin/rebuild")
            assert started.status_code == 202, started.text
            lost = started.json()
            await reached.wait()

            # A's claim session ends (as when its instance is killed): B tells the rebuild
            # as abandoned, and may start the next one.
            conn = await asyncpg.connect(settings.pg_dsn)
            try:
                ended = await conn.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = $1",
                    f"sanlian-reports-rebuild:{first}",
                )
            finally:
                await conn.close()
            assert ended == 1
            told = await rebuild_status(b)
            assert (told["id"], told["state"]) == (lost["id"], "failed"), told
            assert told["error"] == "abandoned: its instance stopped before the swap"
            started = await b.post("/admin/rebuild")
            assert started.status_code == 202, started.text
            rebuild = started.json()
            assert rebuild["previous"] == first

            # A's rebuild, let through, cannot swap without its claim, and does not overwrite
            # the record of B's.
            gate.set()
            mine = await on_a.rebuilds.wait()
            assert mine is not None
            assert mine.state == "failed", mine
            assert on_a.live.target.location == first
            done = await on_b.rebuilds.wait()
            assert done is not None
            assert done.state == "swapped", done
            assert await pointer(settings) == rebuild["target"]
            told_by_a, told_by_b = await rebuild_status(a), await rebuild_status(b)
            assert told_by_a == told_by_b
            assert told_by_b["id"] == rebuild["id"]
            assert told_by_b["dropped"] == [lost["target"]]
            await until(lambda: on_a.live.target.location == rebuild["target"], 30.0)
            assert await answers(a) == before
            assert await answers(b) == before
