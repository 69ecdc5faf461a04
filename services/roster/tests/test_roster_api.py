"""The roster over HTTP on real PostgreSQL: the contact tree under dynamic management."""

from __future__ import annotations

import uuid

import httpx
import pytest

from roster_driver import Roster

pytestmark = pytest.mark.integration


async def tree(roster: Roster) -> dict[str, str]:
    city = await roster.unit("阳泉市总工会", "city_federation")
    county = await roster.unit("盂县总工会", "county_union", city)
    mine = await roster.unit("跃进煤业工会", "enterprise_union", county)
    leader = await roster.member(city, "leader", "张永忠")
    committee = await roster.member(county, "committee")
    rep = await roster.member(mine, "representative", "张东峰", phone="13800000000")
    worker = await roster.member(mine, "worker")
    await roster.link(leader, committee)
    await roster.link(committee, rep)
    await roster.link(rep, worker)
    return {
        "city": city,
        "county": county,
        "mine": mine,
        "leader": leader,
        "committee": committee,
        "rep": rep,
        "worker": worker,
    }


async def test_a_linked_tree_answers_chain_lower_members_and_unit_tree(roster: Roster) -> None:
    t = await tree(roster)
    chain = await roster.ok("GET", f"/members/{t['worker']}/chain")
    assert [m["member_id"] for m in chain] == [t["worker"], t["rep"], t["committee"], t["leader"]]
    lower = await roster.ok("GET", f"/members/{t['rep']}/lower-members")
    assert lower["count"] == 1
    assert lower["data"][0]["member_id"] == t["worker"]
    rep = await roster.ok("GET", f"/members/{t['rep']}")
    assert (rep["name"], rep["phone"], rep["span"]) == ("张东峰", "13800000000", 1)
    units = await roster.ok("GET", "/units")
    assert units[0]["name"] == "阳泉市总工会"
    assert units[0]["children"][0]["children"][0]["name"] == "跃进煤业工会"
    found = await roster.ok("GET", "/members", params={"q": "东峰"})
    assert [m["member_id"] for m in found["data"]] == [t["rep"]]


async def test_departure_ends_links_and_leaves_lower_members_visibly_unlinked(
    roster: Roster,
) -> None:
    t = await tree(roster)
    await roster.ok("POST", f"/members/{t['rep']}/departure", json={"reason": "退休"})
    unlinked = await roster.ok("GET", "/members/unlinked")
    assert [m["member_id"] for m in unlinked["data"]] == [t["worker"]]
    committee = await roster.ok("GET", f"/members/{t['committee']}")
    assert committee["span"] == 0
    rep = await roster.ok("GET", f"/members/{t['rep']}")
    assert rep["status"] == "departed"


async def test_a_worker_elected_representative_changes_tier_and_is_relinked(
    roster: Roster,
) -> None:
    t = await tree(roster)
    await roster.ok("POST", f"/members/{t['worker']}/tier", json={"tier": "representative"})
    assert (await roster.ok("GET", f"/members/{t['rep']}"))["span"] == 0
    await roster.link(t["committee"], t["worker"])
    chain = await roster.ok("GET", f"/members/{t['worker']}/chain")
    assert [m["member_id"] for m in chain] == [t["worker"], t["committee"], t["leader"]]


async def test_relink_moves_a_member_between_upper_members(roster: Roster) -> None:
    t = await tree(roster)
    other = await roster.member(t["mine"], "representative")
    await roster.link(t["committee"], other)
    await roster.ok(
        "POST", "/links/relink", json={"lower_member_id": t["worker"], "upper_member_id": other}
    )
    assert (await roster.ok("GET", f"/members/{t['rep']}"))["span"] == 0
    assert (await roster.ok("GET", f"/members/{other}"))["span"] == 1


async def test_the_span_can_be_exceeded_only_with_a_reason_and_shows_as_over_span(
    roster: Roster,
) -> None:
    t = await tree(roster)
    await roster.ok(
        "PUT",
        "/policy/span",
        json={"leader": 5, "committee": 5, "representative": 1, "reason": "试点"},
    )
    extra = await roster.member(t["mine"], "worker")
    refused = await roster.client.post(
        "/links", json={"upper_member_id": t["rep"], "lower_member_id": extra}
    )
    assert refused.status_code == 409
    assert "span" in refused.json()["detail"]
    assert "override reason" in refused.json()["detail"]
    await roster.link(t["rep"], extra, span_override_reason="矿区偏远，暂由其联系")
    over = await roster.ok("GET", "/members/over-span")
    assert [(o["member"]["member_id"], o["member"]["span"], o["target"]) for o in over] == [
        (t["rep"], 2, 1)
    ]


async def test_a_moved_member_keeps_links_and_frees_the_number(roster: Roster) -> None:
    t = await tree(roster)
    other_mine = await roster.unit("西山煤业工会", "enterprise_union", t["county"])
    await roster.ok("POST", f"/members/{t['worker']}/move", json={"unit_id": other_mine})
    moved = await roster.ok("GET", f"/members/{t['worker']}")
    assert (moved["unit_id"], moved["upper_member_id"]) == (other_mine, t["rep"])
    number = moved["external_number"]
    again = await roster.client.post(
        "/members",
        json={"unit_id": t["mine"], "tier": "worker", "name": "新人", "external_number": number},
    )
    assert again.status_code == 201


async def status_of(
    client: httpx.AsyncClient, method: str, url: str, body: object
) -> tuple[int, str]:
    answer = await client.request(method, url, json=body)
    text = answer.text
    return answer.status_code, text


async def test_bad_input_is_refused_with_a_reason_and_stores_nothing(roster: Roster) -> None:
    t = await tree(roster)
    client = roster.client
    store_before = await roster.ok("GET", "/members/unlinked")
    ghost = str(uuid.uuid4())
    worker2 = await roster.member(t["mine"], "worker")
    cases = [
        (
            "POST",
            "/members",
            {"unit_id": ghost, "tier": "worker", "name": "甲", "external_number": "X1"},
            404,
            "no such union organisation",
        ),
        (
            "POST",
            "/links",
            {"upper_member_id": ghost, "lower_member_id": t["worker"]},
            404,
            "no such member",
        ),
        (
            "POST",
            "/links",
            {"upper_member_id": t["leader"], "lower_member_id": worker2},
            409,
            "a worker is linked under a representative",
        ),
        (
            "POST",
            "/links",
            {"upper_member_id": t["rep"], "lower_member_id": t["rep"]},
            409,
            "themself",
        ),
        (
            "POST",
            "/links",
            {"upper_member_id": t["worker"], "lower_member_id": t["rep"]},
            409,
            "not a worker",
        ),
        (
            "POST",
            "/links",
            {"upper_member_id": t["rep"], "lower_member_id": t["worker"]},
            409,
            "already linked",
        ),
        (
            "POST",
            "/members",
            {"unit_id": t["mine"], "tier": "worker", "name": "乙", "external_number": "N00004"},
            409,
            "already used",
        ),
        (
            "POST",
            "/members",
            {"unit_id": t["mine"], "tier": "chair", "name": "丙", "external_number": "X2"},
            422,
            "tier",
        ),
        (
            "POST",
            "/members",
            {"unit_id": t["mine"], "tier": "worker", "name": "", "external_number": "X3"},
            422,
            "name",
        ),
        (
            "POST",
            "/members",
            {
                "unit_id": t["mine"],
                "tier": "worker",
                "name": "丁",
                "external_number": "X4",
                "registered_on": "2027-01-01",
            },
            409,
            "future",
        ),
        ("POST", "/units", {"name": "孤儿工会", "kind": "enterprise_union"}, 422, "needs a parent"),
    ]
    for method, url, body, expected, words in cases:
        code, text = await status_of(client, method, url, body)
        assert (code, words in text) == (expected, True), (url, body, text)
    await roster.ok("POST", f"/members/{worker2}/departure", json={})
    code, text = await status_of(
        client, "POST", "/links", {"upper_member_id": t["rep"], "lower_member_id": worker2}
    )
    assert (code, "departed" in text) == (409, True)
    assert await roster.ok("GET", "/members/unlinked") == store_before


async def test_display_names_for_systems_forgotten_ones_null_and_not_for_members(
    roster: Roster,
) -> None:
    from support.auth import as_member, bearer

    t = await tree(roster)
    unknown = str(uuid.uuid4())
    await roster.ok("POST", f"/members/{t['worker']}/forget")
    ids = [t["leader"], t["rep"], t["worker"], unknown]
    for headers in (bearer("system", scopes={"roster:read"}), bearer("admin")):
        answer = await roster.client.get(
            "/members/names", params={"member_id": ids}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        found = {row["member_id"]: (row["name"], row["status"]) for row in answer.json()}
        assert found == {
            t["leader"]: ("张永忠", "active"),
            t["rep"]: ("张东峰", "active"),
            t["worker"]: (None, "forgotten"),
        }
        assert set(answer.json()[0]) == {"member_id", "name", "status"}  # no phone, no number
    refused = await roster.client.get(
        "/members/names", params={"member_id": [t["rep"]]}, headers=as_member(t["leader"])
    )
    assert refused.status_code == 403
    scoped = await roster.client.get(
        "/members/names",
        params={"member_id": [t["rep"]]},
        headers=bearer("system", scopes={"reports:read"}),
    )
    assert scoped.status_code == 403
    empty = await roster.client.get("/members/names")
    assert empty.status_code == 422
    assert "member_id" in empty.text
