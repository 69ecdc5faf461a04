"""A member logs and reads contacts on their own links only, on both backends."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from contacts_driver import Topology
from support.auth import as_member, token

pytestmark = pytest.mark.integration


async def test_a_member_cannot_log_or_change_contacts_outside_their_own_links(
    both: Topology,
) -> None:
    unit = await both.unit()
    committee = await both.member(unit, "committee")
    mine, theirs = (
        await both.member(unit, "representative"),
        await both.member(unit, "representative"),
    )
    my_worker, their_worker = await both.member(unit, "worker"), await both.member(unit, "worker")
    await both.link(committee, mine, date(2025, 1, 1))
    await both.link(committee, theirs, date(2025, 1, 1))
    await both.link(mine, my_worker, date(2025, 1, 1))
    await both.link(theirs, their_worker, date(2025, 1, 1))
    await both.sync()
    c = both.contacts
    me = as_member(mine)

    def body(upper: str, lower: str) -> dict[str, str]:
        return {
            "contact_id": str(uuid.uuid4()),
            "upper_member_id": upper,
            "lower_member_id": lower,
            "contacted_on": "2026-03-01",
            "method": "phone",
        }

    # A well-formed contact on another representative's link, with a valid member token.
    refused = await c.post("/contacts", headers=me, json=body(theirs, their_worker))
    assert refused.status_code == 403, refused.text
    assert "your own links" in refused.json()["detail"]
    meeting = {
        "upper_member_id": theirs,
        "lower_member_ids": [their_worker],
        "contacted_on": "2026-03-01",
    }
    assert (await c.post("/meetings", headers=me, json=meeting)).status_code == 403

    # Their own contact, then mine: each may change only their own.
    theirs_logged = body(theirs, their_worker)
    assert (
        await c.post("/contacts", headers=as_member(theirs), json=theirs_logged)
    ).status_code == 201
    contact_url = f"/contacts/{theirs_logged['contact_id']}"
    retract = await c.post(f"{contact_url}/retraction", headers=me, json={"reason": "记错了"})
    assert retract.status_code == 403, retract.text
    correct = await c.post(
        f"{contact_url}/correction", headers=me, json={"method": "visit", "reason": "记错了"}
    )
    assert correct.status_code == 403, correct.text
    assert (await c.get(contact_url, headers=me)).status_code == 403
    assert (await c.get(f"/members/{theirs}/due", headers=me)).status_code == 403
    # Their committee member reads it: it is in their part of the tree.
    assert (await c.get(contact_url, headers=as_member(committee))).status_code == 200

    # Nothing of theirs changed, and my own link works as before.
    card = await both.ok(c, "GET", contact_url)
    assert card["retracted"] is False
    assert card["method"] == "phone"
    account = uuid.uuid4()
    mine_logged = body(mine, my_worker)
    signed_in = {"Authorization": f"Bearer {token('member', mine, account_id=account)}"}
    logged = await c.post("/contacts", headers=signed_in, json=mine_logged)
    assert logged.status_code == 201, logged.text
    # The event records the acting account (and the member it signs in as).
    stream = logged.json()["events"][0]["stream_id"]
    [event] = await both.contacts_state.store.read_stream(stream)
    assert event.actor == f"account:{account}/member:{mine}"
