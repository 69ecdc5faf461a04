"""A worker's phone matches a record the roster registered before it published phone indexes,
once the operator has run the backfill (both backends); before it, the phone is unverified."""

from __future__ import annotations

import pytest
from test_feedback_intake import issue, submit
from test_roster_phone_backfill import old_registration

from contracts.roster import phone_index
from feedback_driver import Topology, build_tree
from roster.bootstrap import Roster as WiredRoster
from roster.phone_backfill import backfill

pytestmark = pytest.mark.integration


@pytest.fixture(params=["full", "embedded"])
def running(request: pytest.FixtureRequest) -> Topology:
    """The apps, once per backend."""
    topology: Topology = request.getfixturevalue(request.param)
    return topology


async def test_after_the_backfill_an_older_records_phone_matches(running: Topology) -> None:
    tree = await build_tree(running.roster)
    wired: WiredRoster = running.roster_app.state.roster
    older = await old_registration(wired, tree.enterprise, "13800005678")
    link = await issue(running, tree.representative)
    feed = running.feedback.wired.feed
    store = running.feedback.wired.store

    await feed.catch_up(5.0)
    before = await submit(running, link["token"], text="更衣室漏水", phone="13800005678")
    assert before.status_code == 201, before.text

    done = await backfill(wired.store, wired.handlers.vault, running.settings.index_secret.encode())
    assert done.indexed == 1
    index = phone_index(running.settings.index_secret.encode(), "13800005678")
    assert index is not None
    for _ in range(50):  # the index travels to the feedback service's replica
        await feed.catch_up(0.2)
        if await running.feedback.wired.chain.member_by_phone(index):
            break
    after = await submit(running, link["token"], text="食堂漏水", phone="138 0000 5678")
    assert after.status_code == 201, after.text

    received = [e for e in await store.read_all(0) if e.event_type == "SuggestionReceived"]
    assert [(e.data["verification"], e.data["worker_id"]) for e in received] == [
        ("unverified", None),
        ("matched", str(older)),
    ]
