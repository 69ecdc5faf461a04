"""The report's story, through the HTTP API, on both backends.

张东峰, a representative at 跃进煤业, raises "train worker representatives" for a worker of
his; it climbs the chain (once by hand, once because a deadline passed) to the leadership
member 张永忠, who gives it to the training department; it is resolved with a training class
for 125 representatives, and the raiser sees the outcome and closes it.
"""

from __future__ import annotations

import json

import pytest

from feedback_driver import Topology, build_tree

pytestmark = pytest.mark.integration

TEXT = (
    "作为代表，常遇到职工的问题答不上来：市总工会能否培训职工代表？(train worker representatives)"
)
OUTCOME = "举办首期职工代表培训班，培训125名职工代表 (training class for 125 representatives)"


@pytest.fixture(params=["full", "embedded"])
def running(request: pytest.FixtureRequest) -> Topology:
    """The story's apps, once per backend."""
    topology: Topology = request.getfixturevalue(request.param)
    return topology


async def test_a_suggestion_climbs_to_the_federation_and_the_raiser_closes_it(
    running: Topology,
) -> None:
    tree = await build_tree(running.roster)
    fb = running.feedback

    # Raising it for his own worker he would hold it himself: he passes it up at once.
    sid = await fb.raise_(
        tree.representative,
        TEXT,
        on_behalf_of=tree.worker,
        then="pass_up",
        reason="需要市总工会统筹",
    )
    raised = await fb.get(sid)
    assert (raised["holder_id"], raised["status"]) == (tree.committee, "held")

    # The committee member lets the acknowledgement deadline (3 days) pass.
    assert await fb.wired.scheduler.tick(running.clock.advance(2)) == 0
    assert await fb.wired.scheduler.tick(running.clock.advance(2)) == 1
    inbox = await fb.ok("GET", f"/members/{tree.leader}/inbox")
    assert [s["suggestion_id"] for s in inbox["data"]] == [sid]
    assert inbox["data"][0]["level"] == 2

    await fb.act(tree.leader, sid, "acknowledgement")
    await fb.act(tree.leader, sid, "assignment", department="training")
    await fb.act(tree.leader, sid, "resolution", outcome=OUTCOME)

    mine = await fb.ok("GET", f"/members/{tree.representative}/suggestions")
    assert mine["count"] == 1
    assert mine["data"][0]["outcome"] == OUTCOME
    assert mine["data"][0]["status"] == "resolved"
    await fb.act(tree.representative, sid, "closure")

    story = await fb.get(sid)
    assert story["status"] == "closed"
    assert story["department"] == "training"
    steps = [(s["type"], s["reason"], s["level"]) for s in story["timeline"]]
    assert steps == [
        ("SuggestionRaised", None, 0),
        ("SuggestionEscalated", "by_hand", 1),
        ("SuggestionEscalated", "deadline", 2),
        ("SuggestionAcknowledged", None, 2),
        ("SuggestionAssigned", None, 2),
        ("SuggestionResolved", None, 2),
        ("SuggestionClosed", None, 2),
    ]
    assert story["timeline"][2]["actor"].startswith("service:")
    assert story["timeline"][2]["holder_id"] == tree.leader
    assert story["timeline"][5]["text"] == OUTCOME
    assert (await fb.ok("GET", f"/members/{tree.leader}/inbox"))["count"] == 0

    # What workers said never rests in clear in an event.
    stored = await fb.wired.store.read_all(0, 1000)
    assert len(stored) == 8
    dumped = json.dumps([e.data for e in stored], ensure_ascii=False)
    # (not a bare "125": a ciphertext's letters and digits may hold it by chance)
    assert "125名" not in dumped
    assert "培训" not in dumped
    assert "training class" not in dumped
