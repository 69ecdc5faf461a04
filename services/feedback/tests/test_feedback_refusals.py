"""Bad input gets a clear 4xx and stores nothing (full topology: PostgreSQL and Kafka)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from feedback_driver import Topology, Tree, build_tree, member
from support.auth import STAFF

pytestmark = pytest.mark.integration


async def _refused(running: Topology, status: int, method: str, url: str, **kw: Any) -> Any:
    """Send a request that must be refused; check that nothing was appended."""
    store = running.feedback.wired.store
    before = await store.head_position()
    answer = await running.feedback.client.request(method, url, **kw)
    assert answer.status_code == status, answer.text
    assert await store.head_position() == before
    return answer.json()


async def _answered_and_closed(running: Topology, tree: Tree) -> str:
    fb = running.feedback
    sid = await fb.raise_(tree.representative, "食堂饭菜太贵")
    await fb.act(tree.committee, sid, "acknowledgement")
    await fb.act(tree.committee, sid, "answer", answer="已与企业协商")
    await fb.act(tree.representative, sid, "closure")
    return sid


async def test_bad_input_is_refused_with_a_clear_answer_and_nothing_stored(
    full: Topology,
) -> None:
    tree = await build_tree(full.roster)
    rep = member(tree.representative)
    body = {"text": "x", "category": "training", "channel": "online"}

    empty = await _refused(
        full, 422, "POST", "/suggestions", headers=rep, json={**body, "text": " "}
    )
    assert [(e["field"], e["code"]) for e in empty["errors"]] == [("text", "too_short")]
    huge = {**body, "text": "长" * 2001}
    too_long = await _refused(full, 422, "POST", "/suggestions", headers=rep, json=huge)
    assert [(e["field"], e["code"]) for e in too_long["errors"]] == [("text", "too_long")]
    assert too_long["errors"][0]["params"] == {"max_length": 2000}
    odd = {**body, "category": "gossip"}
    unknown = await _refused(full, 422, "POST", "/suggestions", headers=rep, json=odd)
    assert [(e["field"], e["code"]) for e in unknown["errors"]] == [("category", "not_one_of")]

    # Raising for a worker who is not yours (the committee member is not the worker's upper).
    theirs = {**body, "on_behalf_of": tree.worker}
    refused = await _refused(
        full, 403, "POST", "/suggestions", headers=member(tree.committee), json=theirs
    )
    assert refused["code"] == "not_your_worker"
    assert "not yours" in refused["detail"]

    # Acting on a suggestion you do not hold: 403, naming why.
    sid = await full.feedback.raise_(tree.representative, "加班费计算不清")
    url = f"/suggestions/{sid}/acknowledgement"
    held = await _refused(full, 403, "POST", url, headers=member(tree.leader))
    assert held["code"] == "not_holder"
    assert held["detail"] == "you do not hold this suggestion"

    # Answering a closed suggestion: 409, naming the state.
    closed = await _answered_and_closed(full, tree)
    late = await _refused(
        full,
        409,
        "POST",
        f"/suggestions/{closed}/answer",
        headers=member(tree.committee),
        json={"answer": "再答一次"},
    )
    assert late["code"] == "wrong_status"
    assert late["params"]["status"] == "closed"

    # Not signed in (401), or signed in but not a member of the tree (403).
    anonymous = {"Authorization": ""}
    signed_out = await _refused(full, 401, "POST", "/suggestions", headers=anonymous, json=body)
    assert signed_out["code"] == "not_signed_in"
    staff = await _refused(full, 403, "POST", "/suggestions", headers=STAFF, json=body)
    assert staff["code"] == "may_not_act"  # only members act on suggestions
    await _refused(full, 404, "POST", f"/suggestions/{uuid.uuid4()}/closure", headers=rep)
    await _refused(
        full,
        422,
        "POST",
        f"/suggestions/{sid}/assignment",
        headers=member(tree.committee),
        json={"department": "astrology"},
    )


async def test_a_retried_command_changes_nothing(full: Topology) -> None:
    tree = await build_tree(full.roster)
    fb = full.feedback
    key = {"Idempotency-Key": str(uuid.uuid4()), **member(tree.representative)}
    body = {"text": "宿舍漏水", "category": "wages_and_welfare", "channel": "visit"}
    first = (await fb.client.post("/suggestions", headers=key, json=body)).json()
    again = (await fb.client.post("/suggestions", headers=key, json=body)).json()
    assert first == again
    sid = first["suggestion_id"]
    ack = {"Idempotency-Key": str(uuid.uuid4()), **member(tree.committee)}
    one = await fb.client.post(f"/suggestions/{sid}/acknowledgement", headers=ack)
    two = await fb.client.post(f"/suggestions/{sid}/acknowledgement", headers=ack)
    assert one.status_code == two.status_code == 200
    assert one.json() == two.json()
    assert len((await fb.get(sid))["timeline"]) == 2
