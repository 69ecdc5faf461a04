"""A suggestion's free text (its text, answers, outcomes, reasons) refuses control characters,
with a 422 naming the field and nothing stored, on both backends; tabs and line breaks stay."""

from __future__ import annotations

import pytest

from feedback_driver import Topology, build_tree, member

pytestmark = pytest.mark.integration


@pytest.fixture(params=["full", "embedded"])
def running(request: pytest.FixtureRequest) -> Topology:
    """Both apps, once per backend."""
    topology: Topology = request.getfixturevalue(request.param)
    return topology


async def test_free_text_refuses_control_characters(running: Topology) -> None:
    tree = await build_tree(running.roster)
    fb = running.feedback
    store = fb.wired.store
    sid = await fb.raise_(tree.representative, "食堂饭菜太贵：\n\t一、价格\n\t二、分量")
    assert (await fb.get(sid))["text"] == "食堂饭菜太贵：\n\t一、价格\n\t二、分量"
    await fb.act(tree.committee, sid, "acknowledgement")  # the raiser's upper contact holds it
    before = await store.head_position()
    raised = {"category": "training", "channel": "online"}
    for url, body, field in (
        ("/suggestions", {**raised, "text": "响铃\x07"}, "text"),
        ("/suggestions", {**raised, "text": "清屏\x1b[2J"}, "text"),
        (f"/suggestions/{sid}/escalation", {"reason": "需要\x0b统筹"}, "reason"),
        (f"/suggestions/{sid}/answer", {"answer": "已协商\x7f"}, "answer"),
    ):
        actor = tree.representative if url == "/suggestions" else tree.committee
        answer = await fb.client.post(url, json=body, headers=member(actor))
        assert answer.status_code == 422, (url, answer.text)
        errors = answer.json()["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, "control_character")], errors
        assert "control character" in errors[0]["detail"], errors
    assert await store.head_position() == before
