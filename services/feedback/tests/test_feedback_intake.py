"""The workers' door, through the HTTP API, on both backends.

A representative issues an intake link; a worker without an account submits a suggestion by
it, gets a follow-up code, follows it and rates the answer. A phone the roster knows links the
suggestion to the worker's record; a forged or revoked link, a flood, a copy and oversized
text are refused with nothing stored; a holder sets a suggestion aside as spam.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest

from feedback.settings import FeedbackSettings
from feedback_driver import Topology, build_tree, member, topology
from support.processes import wait_until

pytestmark = pytest.mark.integration

TEXT = "井下更衣室热水经常没有，希望工会反映解决。"


@pytest.fixture(params=["full", "embedded"])
def running(request: pytest.FixtureRequest) -> Topology:
    """The apps, once per backend."""
    topology: Topology = request.getfixturevalue(request.param)
    return topology


async def issue(running: Topology, actor: str, **body: Any) -> dict[str, Any]:
    """Issue an intake link as ``actor``; the link."""
    answer = await running.feedback.ok("POST", "/intake-links", actor, json=body)
    link: dict[str, Any] = answer["link"]
    return link


async def submit(running: Topology, token: str, **body: Any) -> httpx.Response:
    """Submit a worker's suggestion by a link, without any token."""
    payload = {"text": TEXT, "category": "safety", **body}
    client = running.feedback.client
    return await client.post(
        f"/intake/{token}/suggestions", json=payload, headers={"Authorization": ""}
    )


async def stored_events(running: Topology) -> int:
    """How many feedback events are stored (to show a refusal stored nothing)."""
    store = running.feedback.wired.store
    return len(await store.read_all(0))


async def test_a_worker_submits_by_a_link_follows_it_and_rates_the_answer(
    running: Topology,
) -> None:
    tree = await build_tree(running.roster)
    fb = running.feedback
    link = await issue(running, tree.representative)
    assert link["holder_id"] == tree.representative
    assert not link["revoked"]

    answer = await submit(running, link["token"], name="赵师傅", phone="139 0000 1111")
    assert answer.status_code == 201, answer.text
    code = answer.json()["follow_up_code"]
    assert len(code) == 16

    inbox = await fb.ok("GET", f"/members/{tree.representative}/inbox")
    assert [s["text"] for s in inbox["data"]] == [TEXT]
    sid = inbox["data"][0]["suggestion_id"]
    assert inbox["data"][0]["raised_by"] is None  # a worker without an account
    assert inbox["data"][0]["on_behalf_of"] is None  # the phone is not in the roster

    about = await fb.ok("GET", f"/suggestions/{sid}/intake", tree.representative)
    assert (about["verification"], about["name"], about["phone"]) == (
        "unverified",
        "赵师傅",
        "139 0000 1111",
    )
    hidden = await fb.client.get(f"/suggestions/{sid}/intake", headers=member(tree.worker))
    assert hidden.status_code == 403

    seen = await fb.ok("GET", f"/follow-up/{code}")
    assert (seen["status"], seen["stage"], seen["may_rate"]) == ("held", "representative", False)
    assert "holder_id" not in seen
    assert "raised_by" not in seen  # no internal names

    await fb.act(tree.representative, sid, "acknowledgement")
    await fb.act(tree.representative, sid, "answer", answer="已协调后勤，本周恢复热水供应。")
    seen = await fb.ok("GET", f"/follow-up/{code.lower()}")  # a code typed in lower case
    assert seen["answer"] == "已协调后勤，本周恢复热水供应。"
    assert seen["may_rate"]

    rated = await fb.ok(
        "POST", f"/follow-up/{code}/rating", json={"rating": "basically_satisfied", "comment": "好"}
    )
    assert rated["status"] == "closed"
    assert [(r["rating"], r["comment"]) for r in rated["ratings"]] == [
        ("basically_satisfied", "好")
    ]
    again = await fb.client.post(f"/follow-up/{code}/rating", json={"rating": "satisfied"})
    assert again.status_code == 409
    assert again.json()["field"] == "status"

    # The event keeps the text, the name and the phone sealed: none of them in clear.
    store = fb.wired.store
    received = [e for e in await store.read_all(0) if e.event_type == "SuggestionReceived"]
    raw = str(received[0].data)
    for clear in ("赵师傅", "1111", TEXT, code):
        assert clear not in raw
    assert received[0].data["verification"] == "unverified"


async def test_a_phone_the_roster_knows_links_the_suggestion_to_the_workers_record(
    running: Topology,
) -> None:
    tree = await build_tree(running.roster)
    known = await running.roster.member(tree.enterprise, "worker", "孙师傅", phone="13800001234")
    link = await issue(running, tree.representative)
    if running.settings.store_backend == "postgres":
        # Here the roster's events reach the replica by the relay and Kafka, moments after
        # the roster stored them; embedded, the submission itself catches the replica up.
        chain = running.feedback.wired.chain

        async def replicated() -> bool:
            return await chain.member(UUID(known)) is not None

        await wait_until(replicated, 30, "the worker in the feedback replica")
    answer = await submit(running, link["token"], phone="+86 138-0000-1234")
    assert answer.status_code == 201, answer.text
    inbox = await running.feedback.ok("GET", f"/members/{tree.representative}/inbox")
    assert inbox["data"][0]["on_behalf_of"] == known

    anonymous = await submit(
        running, link["token"], text="另一条建议", anonymous=True, phone="13800001234"
    )
    assert anonymous.status_code == 201
    store = running.feedback.wired.store
    received = [e for e in await store.read_all(0) if e.event_type == "SuggestionReceived"]
    assert [e.data["verification"] for e in received] == ["matched", "anonymous"]
    assert received[1].data["contact"] is None
    assert received[1].data["worker_id"] is None


async def test_forged_revoked_and_reissued_links(running: Topology) -> None:
    tree = await build_tree(running.roster)
    fb = running.feedback
    first = await issue(running, tree.representative)
    second = await issue(running, tree.representative)  # re-issued: the first is revoked
    before = await stored_events(running)

    revoked = await submit(running, first["token"])
    assert revoked.status_code == 409
    assert revoked.json()["code"] == "intake_link_revoked"
    head, _ = second["token"].split(".")
    forged = await submit(running, f"{head}.AAAAAAAAAAAAAAAAAAAAAA")
    assert forged.status_code == 404
    assert forged.json()["code"] == "intake_link_invalid"
    opened = await fb.client.get(f"/intake/{first['token']}")
    assert opened.status_code == 409
    assert await stored_events(running) == before

    await fb.ok("POST", f"/intake-links/{second['link_id']}/revocation", tree.representative)
    gone = await submit(running, second["token"])
    assert gone.status_code == 409
    assert gone.json()["code"] == "intake_link_revoked"
    other = await fb.client.post(
        f"/intake-links/{second['link_id']}/revocation", headers=member(tree.worker)
    )
    assert other.status_code == 403


async def test_floods_copies_and_oversized_text_are_refused_and_store_nothing(
    running: Topology,
) -> None:
    tree = await build_tree(running.roster)
    link = await issue(running, tree.representative)
    assert (await submit(running, link["token"])).status_code == 201
    before = await stored_events(running)

    copy = await submit(running, link["token"])
    assert copy.status_code == 409
    assert copy.json()["code"] == "intake_duplicate"
    huge = await submit(running, link["token"], text="长" * 2001)
    assert huge.status_code == 422
    assert [(e["field"], e["code"]) for e in huge.json()["errors"]] == [("text", "too_long")]
    bad_phone = await submit(running, link["token"], text="新的", phone="call me")
    assert bad_phone.status_code == 422
    assert [e["field"] for e in bad_phone.json()["errors"]] == ["phone"]
    assert await stored_events(running) == before


async def test_a_link_takes_its_hourly_limit_then_refuses(full_settings: Any, clock: Any) -> None:
    config = FeedbackSettings(scheduler_enabled=False, intake_per_link_per_hour=2)
    async with topology(full_settings, clock, config) as running:
        tree = await build_tree(running.roster)
        link = await issue(running, tree.representative)
        for n in range(2):
            assert (await submit(running, link["token"], text=f"建议{n}")).status_code == 201
        before = await stored_events(running)
        refused = await submit(running, link["token"], text="建议3")
        assert refused.status_code == 429
        assert refused.json()["code"] == "intake_rate_limited"
        assert await stored_events(running) == before
        clock.advance(1 / 24 + 0.001)  # an hour later the link takes suggestions again
        assert (await submit(running, link["token"], text="建议3")).status_code == 201


async def test_a_holder_sets_a_suggestion_aside_as_spam_and_the_worker_sees_why(
    running: Topology,
) -> None:
    tree = await build_tree(running.roster)
    fb = running.feedback
    link = await issue(running, tree.representative)
    code = (await submit(running, link["token"], text="广告：低价出售煤炭")).json()[
        "follow_up_code"
    ]
    inbox = await fb.ok("GET", f"/members/{tree.representative}/inbox")
    sid = inbox["data"][0]["suggestion_id"]

    refused = await fb.client.post(
        f"/suggestions/{sid}/setting-aside",
        json={"mark": "spam", "reason": "广告"},
        headers=member(tree.worker),
    )
    assert refused.status_code == 403
    await fb.ok(
        "POST",
        f"/suggestions/{sid}/setting-aside",
        tree.representative,
        json={"mark": "spam", "reason": "与工会工作无关的广告"},
    )
    seen = await fb.ok("GET", f"/follow-up/{code}")
    assert (seen["status"], seen["set_aside"]) == ("set_aside", "spam")
    assert seen["set_aside_reason"] == "与工会工作无关的广告"
    inbox = await fb.ok("GET", f"/members/{tree.representative}/inbox")
    assert inbox["count"] == 0


async def test_an_enterprise_unions_link_is_issued_by_a_committee_member_for_its_member(
    running: Topology,
) -> None:
    tree = await build_tree(running.roster)
    fb = running.feedback
    body = {"owner": "unit", "unit_id": tree.enterprise, "holder_id": tree.representative}
    refused = await fb.client.post("/intake-links", json=body, headers=member(tree.representative))
    assert refused.status_code == 403
    elsewhere = await fb.client.post(
        "/intake-links",
        json={**body, "unit_id": tree.county},
        headers=member(tree.committee),
    )
    assert elsewhere.status_code == 409
    assert (elsewhere.json()["code"], elsewhere.json()["field"]) == (
        "holder_not_in_unit",
        "holder_id",
    )

    link = await issue(running, tree.committee, **body)
    assert (link["owner"], link["unit_id"], link["holder_id"]) == (
        "unit",
        tree.enterprise,
        tree.representative,
    )
    assert (await fb.ok("GET", f"/intake-links/of/{tree.enterprise}"))["link_id"] == link["link_id"]
    assert (await submit(running, link["token"])).status_code == 201
    inbox = await fb.ok("GET", f"/members/{tree.representative}/inbox")
    assert inbox["count"] == 1
