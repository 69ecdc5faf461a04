"""Tags on both backends: chosen with a raise, suggested from the text when none is chosen,
set again by the holder only, recorded as codes (never the text), an unknown tag refused
with nothing stored."""

from __future__ import annotations

import uuid

import pytest

from feedback_driver import Topology, build_tree, member

pytestmark = pytest.mark.integration


@pytest.fixture(params=["full", "embedded"])
def running(request: pytest.FixtureRequest) -> Topology:
    """The apps, once per backend."""
    topology: Topology = request.getfixturevalue(request.param)
    return topology


async def test_tags_are_chosen_or_suggested_and_the_holder_sets_them_again(
    running: Topology,
) -> None:
    tree = await build_tree(running.roster)
    fb = running.feedback
    vocabulary = await fb.ok("GET", "/tags")
    assert {"code": "canteen", "name": "食堂餐饮", "name_en": "Canteen"}.items() <= next(
        t for t in vocabulary if t["code"] == "canteen"
    ).items()

    chosen = await fb.raise_(tree.representative, "食堂排队太久", tags=["canteen", "overtime"])
    suggested = await fb.raise_(tree.representative, "井下通风差，粉尘大")
    untagged = await fb.raise_(tree.representative, "谢谢工会")
    tags = {
        sid: (await fb.ok("GET", f"/suggestions/{sid}/tags", tree.representative))["tags"]
        for sid in (chosen, suggested, untagged)
    }
    assert tags == {
        chosen: ["canteen", "overtime"],
        suggested: ["workplace_safety", "occupational_health"],
        untagged: [],
    }
    recorded = await fb.wired.store.read_stream(f"suggestion-{suggested}")
    [tagged] = [e for e in recorded if e.event_type == "SuggestionTagged"]
    assert tagged.data == {
        "suggestion_id": suggested,
        "tags": ["workplace_safety", "occupational_health"],
        "source": "suggested",
        "tagged_by": tree.representative,
    }

    # The holder (the committee member) sets them again; the raiser may not.
    path = f"/suggestions/{suggested}/tags"
    refused = await fb.client.post(path, headers=member(tree.representative), json={"tags": []})
    assert (refused.status_code, refused.json()["code"]) == (403, "not_holder")
    await fb.ok("POST", path, tree.committee, json={"tags": ["occupational_health"]})
    assert (await fb.ok("GET", path, tree.committee))["tags"] == ["occupational_health"]
    before = len(await fb.wired.store.read_stream(f"suggestion-{suggested}"))
    await fb.ok("POST", path, tree.committee, json={"tags": ["occupational_health"]})
    assert len(await fb.wired.store.read_stream(f"suggestion-{suggested}")) == before

    # An unknown tag: refused naming the field, and no suggestion is stored.
    chosen_id = uuid.uuid4()
    unknown = await fb.client.post(
        "/suggestions",
        headers=member(tree.representative),
        json={
            "suggestion_id": str(chosen_id),
            "text": "建议",
            "category": "other",
            "channel": "online",
            "tags": ["bribery"],
        },
    )
    assert unknown.status_code == 422, unknown.text
    assert (unknown.json()["code"], unknown.json()["field"]) == ("tag_unknown", "tags")
    assert unknown.json()["params"] == {"tag": "bribery"}
    assert await fb.wired.store.read_stream(f"suggestion-{chosen_id}") == []
