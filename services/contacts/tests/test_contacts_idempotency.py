"""An Idempotency-Key sent again with a different request is refused (422) on both backends;
the same request again still answers what the first one did."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from contacts_driver import Topology

pytestmark = pytest.mark.integration


async def _refused(t: Topology, key: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
    """Post under a key used before: it must be refused, naming the key, and store nothing."""
    store = t.contacts_state.store
    before = await store.head_position()
    answer = await t.contacts.post(url, json=body, headers={"Idempotency-Key": key})
    assert answer.status_code == 422, answer.text
    assert await store.head_position() == before
    assert answer.json()["code"] == "idempotency_key_reused"
    refusal: dict[str, Any] = answer.json()["errors"][0]
    assert (refusal["in"], refusal["field"]) == ("header", "Idempotency-Key")
    assert refusal["code"] == "idempotency_key_reused"
    return refusal


async def test_a_key_reused_with_another_contact_or_path_is_refused(both: Topology) -> None:
    unit = await both.unit()
    rep = await both.member(unit, "representative")
    worker = await both.member(unit, "worker")
    await both.link(rep, worker, date(2025, 6, 1))
    await both.sync()
    key = str(uuid.uuid4())
    body = {
        "upper_member_id": rep,
        "lower_member_id": worker,
        "contacted_on": "2026-05-05",
        "method": "phone",
    }
    first = await both.contacts.post("/contacts", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    refusal = await _refused(both, key, "/contacts", {**body, "contacted_on": "2026-09-09"})
    assert key in refusal["detail"]
    card = (await both.ok(both.contacts, "GET", f"/members/{rep}/links"))[0]
    assert (card["standing"]["counted"], card["last_contact_on"]) == (1, "2026-05-05")
    again = await both.contacts.post("/contacts", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 201, again.text
    assert again.json() == first.json()

    # One retraction under one key, sent for another contact: another request.
    contact = first.json()["events"][0]["stream_id"].removeprefix("contact-")
    other = await both.contact(rep, worker, date(2026, 6, 6))
    other_contact = other.json()["events"][0]["stream_id"].removeprefix("contact-")
    retract, why = str(uuid.uuid4()), {"reason": "记错了"}
    retracted = await both.contacts.post(
        f"/contacts/{contact}/retraction", json=why, headers={"Idempotency-Key": retract}
    )
    assert retracted.status_code == 200, retracted.text
    await _refused(both, retract, f"/contacts/{other_contact}/retraction", why)
    card = (await both.ok(both.contacts, "GET", f"/members/{rep}/links"))[0]
    assert (card["standing"]["counted"], card["last_contact_on"]) == (1, "2026-06-06")
