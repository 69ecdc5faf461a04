"""Free text in the roster's commands, and an admin's own account, on both backends.

Names and reasons refuse control characters (a name also refuses line breaks and tabs), with a
422 naming the field, and nothing is stored. An admin cannot disable their own account.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from roster_driver import Roster

pytestmark = pytest.mark.integration


async def _stored(roster: Roster) -> list[Any]:
    """What a refused command must leave as it was: the units, the unlinked members."""
    return [await roster.ok("GET", path) for path in ("/units", "/members/unlinked")]


async def _refused_naming(roster: Roster, method: str, url: str, body: Any, field: str) -> None:
    before = await _stored(roster)
    answer = await roster.client.request(method, url, json=body)
    assert answer.status_code == 422, (url, body, answer.text)
    errors = answer.json()["errors"]
    assert [(e["field"].split(".")[-1], e["code"]) for e in errors] == [
        (field, "control_character")
    ], errors
    assert "control character" in errors[0]["detail"], errors
    assert await _stored(roster) == before


async def test_names_and_reasons_refuse_control_characters(roster: Roster) -> None:
    city = await roster.unit("阳泉市总工会", "city_federation")
    county = await roster.unit("盂县总工会", "county_union", city)
    leader = await roster.member(city, "leader")
    first = await roster.member(county, "committee")
    await roster.link(leader, first)
    unit = {"kind": "county_union", "parent_unit_id": city}
    for name in (
        "盂县\x07总工会",
        "盂县\n总工会",
        "盂县\t总工会",
        "盂县\x1b[31m总工会",
        "盂\x85县",
    ):
        await _refused_naming(roster, "POST", "/units", {**unit, "name": name}, "name")
    member = {"unit_id": county, "tier": "committee", "external_number": "X-1"}
    await _refused_naming(roster, "POST", "/members", {**member, "name": "李\x08建华"}, "name")
    await _refused_naming(
        roster, "POST", f"/units/{county}/closure", {"reason": "合\x1b并"}, "reason"
    )
    policy = {"leader": 1, "committee": 5, "representative": 10, "reason": "调整\x7f"}
    await _refused_naming(roster, "PUT", "/policy/span", policy, "reason")
    second = await roster.member(county, "committee")
    override = {"upper_member_id": leader, "lower_member_id": second}
    await roster.ok("PUT", "/policy/span", json={**policy, "reason": "试点\n只联系一人"})
    await _refused_naming(
        roster,
        "POST",
        "/links",
        {**override, "span_override_reason": "特\x0c批"},
        "span_override_reason",
    )
    # Free text keeps its line breaks and tabs; a name with ordinary punctuation is fine.
    await roster.ok("POST", "/links", json={**override, "span_override_reason": "特批：\n\t试点"})
    await roster.unit("盂县（东区）总工会 No.2", "county_union", city)


async def test_an_admin_cannot_disable_their_own_account(roster: Roster) -> None:
    client = roster.client
    ids = {}
    for name in ("admin.one", "admin.two"):
        opened = await client.post(
            "/accounts", json={"username": name, "password": f"{name}-password", "role": "admin"}
        )
        assert opened.status_code == 201, opened.text
        ids[name] = opened.json()["account_id"]
    signed = await client.post(
        "/auth/token", data={"username": "admin.one", "password": "admin.one-password"}
    )
    assert signed.status_code == 200, signed.text
    one = {"Authorization": f"Bearer {signed.json()['access_token']}"}

    own = await client.post(f"/accounts/{ids['admin.one']}/disabling", headers=one)
    assert own.status_code == 409, own.text
    assert own.json()["field"] == "account_id"
    assert "your own account" in own.json()["detail"]
    assert (await client.get("/auth/me", headers=one)).status_code == 200  # still signed in

    other = await client.post(f"/accounts/{ids['admin.two']}/disabling", headers=one)
    assert other.status_code == 200, other.text
    assert other.json()["disabled_at"] is not None
    # The last-admin rule stays: admin.one is the last enabled admin now.
    last = await client.post(f"/accounts/{ids['admin.one']}/disabling")
    assert last.status_code == 409, last.text
    assert "last admin" in last.json()["detail"]
    assert uuid.UUID(ids["admin.one"])
