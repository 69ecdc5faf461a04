"""An Idempotency-Key sent again with a different request (body, suggestion or acting member) is
refused (422) on both backends; the same request again still answers what the first one did."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from feedback_driver import Topology, build_tree, member

pytestmark = pytest.mark.integration


@pytest.fixture(params=["full", "embedded"])
def running(request: pytest.FixtureRequest) -> Topology:
    """The full topology (PostgreSQL, Kafka), then the embedded default (SQLite)."""
    topology: Topology = request.getfixturevalue(request.param)
    return topology


async def _refused(
    t: Topology, key: str, actor: str, url: str, body: dict[str, Any] | None = None
) -> None:
    """Post under a key used before: it must be refused, naming the key, and store nothing."""
    store = t.feedback.wired.store
    before = await store.head_position()
    headers = {"Idempotency-Key": key, **member(actor)}
    answer = await t.feedback.client.post(url, json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "idempotency_key_reused"
    refusal = answer.json()["errors"][0]
    assert (refusal["in"], refusal["field"]) == ("header", "Idempotency-Key")
    assert await store.head_position() == before


async def test_a_key_reused_for_another_request_is_refused(running: Topology) -> None:
    tree = await build_tree(running.roster)
    fb = running.feedback
    key = str(uuid.uuid4())
    rep = {"Idempotency-Key": key, **member(tree.representative)}
    body = {"text": "宿舍漏水", "category": "wages_and_welfare", "channel": "visit"}
    first = await fb.client.post("/suggestions", headers=rep, json=body)
    assert first.status_code == 201, first.text
    await _refused(running, key, tree.representative, "/suggestions", {**body, "text": "食堂太贵"})
    await _refused(running, key, tree.committee, "/suggestions", body)  # another acting member
    inbox = await fb.ok("GET", f"/members/{tree.committee}/inbox", tree.committee)
    assert [s["text"] for s in inbox["data"]] == ["宿舍漏水"]
    again = await fb.client.post("/suggestions", headers=rep, json=body)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()

    # One acknowledgement under one key, sent for another suggestion: another request.
    sid, other = first.json()["suggestion_id"], await fb.raise_(tree.representative, "加班费")
    ack = str(uuid.uuid4())
    headers = {"Idempotency-Key": ack, **member(tree.committee)}
    done = await fb.client.post(f"/suggestions/{sid}/acknowledgement", headers=headers)
    assert done.status_code == 200, done.text
    await _refused(running, ack, tree.committee, f"/suggestions/{other}/acknowledgement")
    assert len((await fb.get(other))["timeline"]) == 1
