"""A member's own compliance view over a year in which a worker moved to another representative,
on both backends: each representative answers for the link they held, the ended one marked,
and every link says what it owes and from when (the partial-year rule)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from test_compliance_view import publish, reports_client

from contacts_driver import Topology, topology
from eventspine.config import Settings
from support.auth import as_member

pytestmark = pytest.mark.integration


async def view(client: httpx.AsyncClient, member: str, url: str = "/compliance") -> Any:
    answer = await client.get(url, params={"period": "2026"}, headers=as_member(member))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def moved_in_july(t: Topology) -> dict[str, str]:
    """A committee member over two representatives; worker ``moved`` goes from ``old`` to
    ``new`` on 1 July 2026, with a contact on each side; ``late`` is linked to ``new`` then."""
    unit = await t.unit()
    people = {
        "committee": await t.member(unit, "committee"),
        "old": await t.member(unit, "representative"),
        "new": await t.member(unit, "representative"),
        "moved": await t.member(unit, "worker"),
        "stays": await t.member(unit, "worker"),
        "late": await t.member(unit, "worker"),
    }
    for upper, lower in (("committee", "old"), ("committee", "new"), ("old", "moved")):
        await t.link(people[upper], people[lower], date(2025, 6, 1))
    await t.link(people["old"], people["stays"], date(2025, 6, 1))
    await t.sync()
    assert (await t.contact(people["old"], people["moved"], date(2026, 3, 1))).status_code == 201
    await t.ok(
        t.roster,
        "POST",
        "/links/relink",
        json={
            "lower_member_id": people["moved"],
            "upper_member_id": people["new"],
            "assigned_on": "2026-07-01",
        },
    )
    await t.link(people["new"], people["late"], date(2026, 7, 1))
    await t.sync()
    assert (await t.contact(people["new"], people["moved"], date(2026, 8, 1))).status_code == 201
    if t.settings.store_backend == "postgres":
        await publish(t, "roster")
        await publish(t, "contacts")
    return people


def pairs(report: Any, people: dict[str, str]) -> dict[tuple[str, str], Any]:
    """The report's links by (upper, lower) role names."""
    role = {member: name for name, member in people.items()}
    return {
        (role[link["upper_member_id"]], role[link["lower_member_id"]]): link
        for link in report["data"]
    }


async def test_a_representative_still_sees_the_link_they_held_before_the_worker_moved(
    backend: Settings,
) -> None:
    async with topology(backend) as t:
        people = await moved_in_july(t)
        async with reports_client(backend) as (client, state):
            assert await state.feed.catch_up(60.0)
            old = pairs(await view(client, people["old"]), people)
            assert set(old) == {("committee", "old"), ("old", "stays"), ("old", "moved")}
            held = old[("old", "moved")]
            assert (held["ended"], held["unassigned_on"]) == (True, "2026-07-01")
            assert (held["active_from"], held["active_until"]) == ("2026-01-01", "2026-06-30")
            assert (held["required"], held["counted"], held["status"]) == (1, 1, "met")
            assert old[("old", "stays")]["ended"] is False

            new = pairs(await view(client, people["new"]), people)
            assert set(new) == {
                ("committee", "new"),
                ("new", "moved"),
                ("new", "late"),
                ("old", "moved"),
            }
            # The committee member above both sees each side once.
            above = pairs(await view(client, people["committee"]), people)
            assert {("old", "moved"), ("new", "moved")} <= set(above)
            months = await view(client, people["old"], "/compliance/monthly")
            assert months[-1]["tally"]["links"] == 3


async def test_each_link_says_what_it_owes_and_from_when_it_started_inside_the_period(
    backend: Settings,
) -> None:
    async with topology(backend) as t:
        people = await moved_in_july(t)
        async with reports_client(backend) as (client, state):
            assert await state.feed.catch_up(60.0)
            links = pairs(await view(client, people["committee"]), people)
            whole = links[("old", "stays")]
            assert (whole["required"], whole["whole_period"]) == (2, True)
            assert (whole["active_from"], whole["active_until"]) == ("2026-01-01", "2026-12-31")
            late = links[("new", "late")]
            assert (late["required"], late["whole_period"], late["ended"]) == (1, False, False)
            assert (late["active_from"], late["active_until"]) == ("2026-07-01", "2026-12-31")
            assert (late["counted"], late["status"]) == (0, "none")
