"""The handbook (工作手册): each version an event; an edit of a stale version is refused."""

from __future__ import annotations

import pytest

from roster_driver import Roster

pytestmark = pytest.mark.integration


async def test_the_handbook_is_published_in_versions_and_a_stale_edit_is_refused(
    roster: Roster,
) -> None:
    before = await roster.ok("GET", "/handbook")
    start = before["version"]
    first = "# 工作手册\n\n每年同每名联系人至少联系两次。"
    await roster.ok("PUT", "/handbook", json={"text": first, "expected_version": start})
    second = first + "\n\n## 联系方式\n\n座谈、走访、电话、网络。"
    body = {"text": second, "note": "增加联系方式", "expected_version": start + 1}
    answer = await roster.ok("PUT", "/handbook", json=body)
    assert [e["type"] for e in answer["events"]] == ["sanlian.roster.HandbookPublished.v1"]
    found = await roster.ok("GET", "/handbook")
    assert (found["version"], found["text"], found["note"]) == (start + 2, second, "增加联系方式")

    stale = await roster.client.put("/handbook", json={"text": "旧稿", "expected_version": start})
    assert stale.status_code == 409, stale.text
    same = await roster.client.put("/handbook", json={"text": second})
    assert same.status_code == 409, same.text
    empty = await roster.client.put("/handbook", json={"text": "  "})
    assert empty.status_code == 422, empty.text
    assert (await roster.ok("GET", "/handbook"))["version"] == start + 2
