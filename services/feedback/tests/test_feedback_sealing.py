"""Personal text is sealed only once a command is accepted: a refused one leaves no key behind
(embedded SQLite backend)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import pytest

from feedback_driver import Topology, build_tree, member


async def _has_key(running: Topology, suggestion_id: uuid.UUID) -> bool:
    vault = running.feedback.wired.handlers.vault
    return await vault.keys.key_for(suggestion_id, create=False) is not None


async def test_a_refused_raise_creates_no_key_in_the_vault(embedded: Topology) -> None:
    tree = await build_tree(embedded.roster)
    fb = embedded.feedback
    body = {"text": "王师傅反映工资拖欠", "category": "rights", "channel": "visit"}

    # Not the worker's upper contact (403): the id the key names is the one a retry would use.
    key = uuid.uuid4()
    headers = {"Idempotency-Key": str(key), **member(tree.committee)}
    theirs = await fb.client.post(
        "/suggestions", headers=headers, json={**body, "on_behalf_of": tree.worker}
    )
    assert theirs.status_code == 403, theirs.text
    assert not await _has_key(embedded, uuid.uuid5(key, "suggestion_id"))

    # A worker nobody knows (404), under an id the client chose.
    chosen = uuid.uuid4()
    unknown = await fb.client.post(
        "/suggestions",
        headers=member(tree.representative),
        json={**body, "suggestion_id": str(chosen), "on_behalf_of": str(uuid.uuid4())},
    )
    assert unknown.status_code == 404, unknown.text
    assert not await _has_key(embedded, chosen)

    # For his own worker without saying whether he answers it or passes it up (409).
    unchosen = await fb.client.post(
        "/suggestions",
        headers=member(tree.representative),
        json={**body, "suggestion_id": str(chosen), "on_behalf_of": tree.worker},
    )
    assert unchosen.status_code == 409, unchosen.text
    assert unchosen.json()["field"] == "then"
    assert not await _has_key(embedded, chosen)

    # The same raise, with the choice, does create the suggestion's key.
    raised = await fb.client.post(
        "/suggestions",
        headers=member(tree.representative),
        json={
            **body,
            "suggestion_id": str(chosen),
            "on_behalf_of": tree.worker,
            "then": "pass_up",
            "reason": "需要上级协调",
        },
    )
    assert raised.status_code == 201, raised.text
    assert await _has_key(embedded, chosen)


async def test_a_refused_answer_seals_nothing(
    embedded: Topology, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = await build_tree(embedded.roster)
    fb = embedded.feedback
    sid = await fb.raise_(tree.representative, "宿舍漏水")
    vault = fb.wired.handlers.vault
    sealed: list[uuid.UUID] = []
    seal = vault.seal

    async def watched(subject_id: uuid.UUID, data: Mapping[str, str | None]) -> str:
        sealed.append(subject_id)
        return await seal(subject_id, data)

    monkeypatch.setattr(vault, "seal", watched)
    answer = {"answer": "已与企业协商"}
    # Not acknowledged yet (409), and not the holder (403): neither seals the answer.
    early = await fb.client.post(
        f"/suggestions/{sid}/answer", headers=member(tree.committee), json=answer
    )
    assert early.status_code == 409, early.text
    await fb.act(tree.committee, sid, "acknowledgement")
    stranger = await fb.client.post(
        f"/suggestions/{sid}/answer", headers=member(tree.leader), json=answer
    )
    assert stranger.status_code == 403, stranger.text
    assert sealed == []
    await fb.act(tree.committee, sid, "answer", **answer)
    assert sealed == [uuid.UUID(sid)]
