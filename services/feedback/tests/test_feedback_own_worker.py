"""A representative who raises for their own worker chooses what happens, on both backends:
answer it now, or pass it up at once with the reason; it never waits in their own inbox."""

from __future__ import annotations

import pytest

from feedback_driver import Topology, build_tree, member

pytestmark = pytest.mark.integration


@pytest.fixture(params=["full", "embedded"])
def running(request: pytest.FixtureRequest) -> Topology:
    """The apps, once per backend."""
    topology: Topology = request.getfixturevalue(request.param)
    return topology


async def test_answering_at_once_or_passing_up_at_once(running: Topology) -> None:
    tree = await build_tree(running.roster)
    fb = running.feedback

    answered = await fb.raise_(
        tree.representative,
        "食堂饭菜涨价",
        on_behalf_of=tree.worker,
        then="answer",
        answer="已与食堂沟通，价格维持不变。",
    )
    seen = await fb.get(answered)
    assert (seen["status"], seen["answer"]) == ("answered", "已与食堂沟通，价格维持不变。")
    assert [e["type"] for e in seen["timeline"]] == [
        "SuggestionRaised",
        "SuggestionAcknowledged",
        "SuggestionAnswered",
    ]

    passed = await fb.raise_(
        tree.representative,
        "希望组织技能培训",
        on_behalf_of=tree.worker,
        then="pass_up",
        reason="需要县总工会安排",
    )
    seen = await fb.get(passed)
    assert (seen["status"], seen["holder_id"], seen["level"]) == ("held", tree.committee, 1)
    assert seen["timeline"][-1]["text"] == "需要县总工会安排"
    inbox = await fb.ok("GET", f"/members/{tree.representative}/inbox")
    assert inbox["count"] == 0  # nothing came back to the representative to acknowledge

    # The raiser rates the answer: a rating is an event, and it closes the suggestion.
    early = await fb.client.post(
        f"/suggestions/{passed}/rating",
        json={"rating": "satisfied"},
        headers=member(tree.representative),
    )
    assert early.status_code == 409
    other = await fb.client.post(
        f"/suggestions/{answered}/rating",
        json={"rating": "satisfied"},
        headers=member(tree.committee),
    )
    assert other.status_code == 403
    await fb.act(tree.representative, answered, "rating", rating="basically_satisfied")
    seen = await fb.get(answered)
    assert seen["status"] == "closed"
    assert (seen["timeline"][-1]["type"], seen["timeline"][-1]["reason"]) == (
        "SuggestionRated",
        "basically_satisfied",
    )


async def test_a_choice_needs_its_text_and_an_own_worker(running: Topology) -> None:
    tree = await build_tree(running.roster)
    client = running.feedback.client
    body = {"text": "建议", "category": "other", "channel": "visit", "on_behalf_of": tree.worker}
    headers = member(tree.representative)

    no_answer = await client.post("/suggestions", json={**body, "then": "answer"}, headers=headers)
    assert no_answer.status_code == 422
    assert [(e["field"], e["code"]) for e in no_answer.json()["errors"]] == [("answer", "required")]
    no_reason = await client.post("/suggestions", json={**body, "then": "pass_up"}, headers=headers)
    assert [(e["field"], e["code"]) for e in no_reason.json()["errors"]] == [("reason", "required")]
    own = {k: v for k, v in body.items() if k != "on_behalf_of"}
    not_mine = await client.post(
        "/suggestions", json={**own, "then": "answer", "answer": "好"}, headers=headers
    )
    assert not_mine.status_code == 409
    assert (not_mine.json()["code"], not_mine.json()["field"]) == (
        "raise_choice_own_worker",
        "then",
    )
    store = running.feedback.wired.store
    assert await store.read_all(0) == []  # nothing stored, no key made
