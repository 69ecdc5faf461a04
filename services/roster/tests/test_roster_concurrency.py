"""Invariants that span several members hold under real concurrent requests on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from roster_driver import Roster

pytestmark = pytest.mark.integration


async def test_ten_racing_links_to_a_representative_with_seven_of_ten_taken_let_three_in(
    roster: Roster,
) -> None:
    city = await roster.unit("阳泉市总工会", "city_federation")
    rep = await roster.member(city, "representative")
    for _ in range(7):
        await roster.link(rep, await roster.member(city, "worker"))
    racers = [await roster.member(city, "worker") for _ in range(10)]
    answers = await asyncio.gather(
        *(
            roster.client.post("/links", json={"upper_member_id": rep, "lower_member_id": w})
            for w in racers
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 3 + [409] * 7
    for answer in answers:
        if answer.status_code == 409:
            assert "span of this representative is full (10 of 10)" in answer.json()["detail"]
    assert (await roster.ok("GET", f"/members/{rep}"))["span"] == 10


async def test_two_racing_upper_members_for_one_worker_let_exactly_one_in(roster: Roster) -> None:
    city = await roster.unit("阳泉市总工会", "city_federation")
    first = await roster.member(city, "representative")
    second = await roster.member(city, "representative")
    worker = await roster.member(city, "worker")
    answers = await asyncio.gather(
        *(
            roster.client.post("/links", json={"upper_member_id": u, "lower_member_id": worker})
            for u in (first, second)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    loser = next(a for a in answers if a.status_code == 409)
    assert "already linked" in loser.json()["detail"]
    spans = [(await roster.ok("GET", f"/members/{u}"))["span"] for u in (first, second)]
    assert sorted(spans) == [0, 1]
