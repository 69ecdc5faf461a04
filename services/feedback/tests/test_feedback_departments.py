"""Departments that act, on both backends: a leadership member appoints a member to the
training department and assigns a suggestion to it; the department member sees it in the
department's inbox with its deadline, takes it up and records the outcome; the leader follows
every step on the timeline; nobody else may take it up or resolve it."""

from __future__ import annotations

import pytest

from feedback_driver import Topology, build_tree, member

pytestmark = pytest.mark.integration


@pytest.fixture(params=["full", "embedded"])
def running(request: pytest.FixtureRequest) -> Topology:
    """The apps, once per backend."""
    topology: Topology = request.getfixturevalue(request.param)
    return topology


async def test_a_department_member_takes_up_and_resolves_what_the_leader_assigned(
    running: Topology,
) -> None:
    tree = await build_tree(running.roster)
    fb, client = running.feedback, running.feedback.client
    clerk = await running.roster.member(tree.city, "worker", "宣教部干事")

    refused = await client.post(
        "/departments/training/members", json={"member_id": clerk}, headers=member(tree.committee)
    )
    assert refused.status_code == 403
    await fb.ok("POST", "/departments/training/members", tree.leader, json={"member_id": clerk})
    assert await fb.ok("GET", f"/members/{clerk}/departments") == ["training"]

    sid = await fb.raise_(tree.leader, "希望举办职工代表培训班")
    await fb.act(tree.leader, sid, "acknowledgement")
    await fb.act(tree.leader, sid, "assignment", department="training")

    waiting = await fb.ok("GET", "/departments/training/inbox")
    assert [s["suggestion_id"] for s in waiting["data"]] == [sid]
    assert waiting["data"][0]["due_kind"] == "department"
    assert waiting["data"][0]["due_at"].startswith("2026-03-17")  # 15 days after 2 March

    # The department's member reads it (they are not in its chain) to act on it.
    assert (await fb.ok("GET", f"/suggestions/{sid}", clerk))["department"] == "training"
    stranger = await client.post(f"/suggestions/{sid}/taking-up", headers=member(tree.worker))
    assert stranger.status_code == 403
    await fb.act(clerk, sid, "taking-up")
    again = await client.post(f"/suggestions/{sid}/taking-up", headers=member(clerk))
    assert again.status_code == 409
    assert (await fb.ok("GET", f"/suggestions/{sid}/taken-up"))["taken_up_by"] == clerk
    not_theirs = await client.post(
        f"/suggestions/{sid}/resolution", json={"outcome": "x"}, headers=member(tree.worker)
    )
    assert not_theirs.status_code == 403
    await fb.act(clerk, sid, "resolution", outcome="举办首期职工代表培训班，培训125名职工代表")

    seen = await fb.get(sid)
    assert seen["status"] == "resolved"
    assert seen["due_at"] is None
    steps = [(e["type"], e["actor"]) for e in seen["timeline"]][-3:]
    assert steps == [
        ("SuggestionAssigned", f"member:{tree.leader}"),
        ("SuggestionTakenUp", f"member:{clerk}"),
        ("SuggestionResolved", f"member:{clerk}"),
    ]
    assert (await fb.ok("GET", "/departments/training/inbox"))["count"] == 0

    await fb.ok("POST", f"/departments/training/members/{clerk}/release", tree.leader)
    assert await fb.ok("GET", "/departments/training/members") == []
