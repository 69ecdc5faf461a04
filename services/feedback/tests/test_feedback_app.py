"""The app itself: its OpenAPI document, its configuration, and a scheduler after a restart."""

from __future__ import annotations

from pathlib import Path

from eventspine.config import Settings
from feedback_driver import MovableClock, Topology, build_tree, topology


async def test_the_openapi_document_has_clean_operation_ids_tags_and_examples(
    embedded: Topology,
) -> None:
    document = (await embedded.feedback.client.get("/openapi.json")).json()
    operations = {
        op["operationId"]: op for path in document["paths"].values() for op in path.values()
    }
    assert {
        "raise_suggestion",
        "acknowledge_suggestion",
        "escalate_suggestion",
        "answer_suggestion",
        "assign_suggestion",
        "resolve_suggestion",
        "close_suggestion",
        "reopen_suggestion",
        "get_suggestion",
        "member_inbox",
        "federation_inbox",
        "raised_suggestions",
        "list_departments",
    } <= set(operations)
    assert operations["raise_suggestion"]["tags"] == ["suggestions"]
    assert document["components"]["schemas"]["RaiseSuggestion"]["examples"]
    departments = await embedded.feedback.ok("GET", "/departments")
    assert {"code": "training", "name": "宣教部"} in departments


async def test_a_restarted_service_still_escalates_what_became_overdue(tmp_path: Path) -> None:
    clock = MovableClock()
    settings = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))
    async with topology(settings, clock) as first:
        tree = await build_tree(first.roster)
        sid = await first.feedback.raise_(tree.representative, "更衣室太小")
    clock.advance(4)
    async with topology(settings, clock) as second:
        assert await second.feedback.wired.scheduler.tick() == 1
        assert (await second.feedback.get(sid))["holder_id"] == tree.leader
        assert await second.feedback.wired.scheduler.tick() == 0
