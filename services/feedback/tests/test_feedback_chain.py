"""The chain as the roster replica knows it, on the embedded SQLite backend: departed holders,
gaps in the tree, reopening, and shredding when the roster forgets the raiser."""

from __future__ import annotations

import uuid

from eventspine.crypto import PersonalDataVault
from feedback_driver import Topology, build_tree, member


async def test_a_departed_holders_suggestion_goes_to_the_next_one_up_by_itself(
    embedded: Topology,
) -> None:
    tree = await build_tree(embedded.roster)
    fb = embedded.feedback
    sid = await fb.raise_(tree.representative, "矿井通风不好", category="safety")
    assert (await fb.get(sid))["holder_id"] == tree.committee

    await embedded.roster.ok("POST", f"/members/{tree.committee}/departure", json={})
    assert await fb.wired.scheduler.tick() == 1  # no deadline needed: the holder is gone
    moved = await fb.get(sid)
    assert moved["holder_id"] == tree.leader
    step = moved["timeline"][-1]
    assert (step["type"], step["reason"]) == ("SuggestionEscalated", "holder_departed")

    # The representative's upper contact departed: a new suggestion goes past them.
    again = await fb.raise_(tree.representative, "班车时间不合适", category="wages_and_welfare")
    stored = await fb.wired.store.read_stream(f"suggestion-{again}")
    assert stored[0].data["holder_id"] == tree.leader
    assert stored[0].data["route"] == "next_one_up"
    assert stored[0].data["passed_over"] == [tree.committee]


async def test_an_unlinked_member_reaches_the_federation_leadership(embedded: Topology) -> None:
    tree = await build_tree(embedded.roster)
    fb = embedded.feedback
    await embedded.roster.ok("POST", "/links/unlink", json={"lower_member_id": tree.committee})
    sid = await fb.raise_(tree.committee, "委员培训经费不足", category="union_work")
    raised = (await fb.wired.store.read_stream(f"suggestion-{sid}"))[0].data
    assert (raised["holder_id"], raised["route"]) == (None, "no_upper_contact")
    top = await fb.ok("GET", "/federation/inbox")
    assert [s["suggestion_id"] for s in top["data"]] == [sid]
    # Any leadership member acts at the top; a representative may not.
    refused = await fb.client.post(
        f"/suggestions/{sid}/acknowledgement", headers=member(tree.representative)
    )
    assert refused.status_code == 403
    await fb.act(tree.leader, sid, "acknowledgement")
    await fb.act(tree.leader, sid, "assignment", department="organisation")


async def test_a_raiser_not_satisfied_reopens_and_the_holder_has_it_again(
    embedded: Topology,
) -> None:
    tree = await build_tree(embedded.roster)
    fb = embedded.feedback
    sid = await fb.raise_(tree.representative, "希望增加技能培训")
    await fb.act(tree.committee, sid, "acknowledgement")
    await fb.act(tree.committee, sid, "answer", answer="请关注通知")
    not_raiser = await fb.client.post(f"/suggestions/{sid}/closure", headers=member(tree.committee))
    assert not_raiser.status_code == 403
    await fb.act(tree.representative, sid, "reopening", reason="没有具体安排")
    reopened = await fb.get(sid)
    assert (reopened["status"], reopened["holder_id"]) == ("held", tree.committee)
    assert reopened["due_kind"] == "acknowledge"
    assert reopened["timeline"][-1]["text"] == "没有具体安排"


async def test_forgetting_the_raiser_shreds_their_suggestions(embedded: Topology) -> None:
    tree = await build_tree(embedded.roster)
    fb = embedded.feedback
    sid = await fb.raise_(
        tree.representative,
        "王师傅反映工资拖欠",
        on_behalf_of=tree.worker,
        then="pass_up",
        reason="需要上级协调",
    )
    await embedded.roster.ok("POST", f"/members/{tree.worker}/forget")
    assert await fb.wired.feed.catch_up(2.0)
    shredded = await fb.get(sid)
    assert shredded["text"] is None
    assert shredded["timeline"][0]["text"] is None
    sealed = (await fb.wired.store.read_stream(f"suggestion-{sid}"))[0].data["text"]
    vault: PersonalDataVault = fb.wired.handlers.vault
    assert await vault.unseal(uuid.UUID(sid), sealed) is None
