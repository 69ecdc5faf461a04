"""A roster change may not leave a logged contact on no link: a relink, unlink, tier change or
departure is refused (409) when dated before the link it ends started, or on or before the
latest contact logged on that link, as the roster's replica of the contacts service's events
knows it. On both backends, with the real contacts service logging the contacts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from roster_contacts import WithContacts, with_contacts

from eventspine.config import Settings

pytestmark = pytest.mark.integration

STARTED = date(2026, 3, 1)
CONTACT = date(2026, 5, 2)


@pytest.fixture(params=["postgres", "sqlite"])
def any_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The full topology's settings, then the embedded default's."""
    if request.param == "postgres":
        settings: Settings = request.getfixturevalue("pg_settings")
        return settings
    return Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))


@pytest.fixture
async def both(any_settings: Settings) -> AsyncIterator[WithContacts]:
    """The roster and the contacts service, on each backend."""
    async with with_contacts(any_settings) as t:
        yield t


async def linked_pair(t: WithContacts) -> dict[str, str]:
    """Two representatives and a worker linked under the first since ``STARTED``, known to the
    contacts service."""
    unit = await t.unit("跃进煤业工会", "city_federation")
    first = await t.member(unit, "representative", registered_on="2025-01-01")
    second = await t.member(unit, "representative", registered_on="2025-01-01")
    worker = await t.member(unit, "worker", registered_on="2025-01-01")
    await t.link(first, worker, assigned_on=STARTED.isoformat())
    await t.publish_roster()
    return {"unit": unit, "first": first, "second": second, "worker": worker}


async def relink(t: WithContacts, worker: str, upper: str, on: str) -> httpx.Response:
    body = {"lower_member_id": worker, "upper_member_id": upper, "assigned_on": on}
    return await t.client.post("/links/relink", json=body)


async def unlink(t: WithContacts, worker: str, on: str) -> httpx.Response:
    return await t.client.post(
        "/links/unlink", json={"lower_member_id": worker, "unassigned_on": on}
    )


async def refused(t: WithContacts, answer: httpx.Response, head: int) -> dict[str, Any]:
    """The 409 body of a refusal that stored nothing."""
    assert answer.status_code == 409, answer.text
    assert await t.head() == head
    body: dict[str, Any] = answer.json()
    return body


async def upper_of(t: WithContacts, member: str) -> str | None:
    upper: str | None = (await t.ok("GET", f"/members/{member}"))["upper_member_id"]
    return upper


async def test_a_relink_dated_before_the_link_started_is_refused_naming_the_start(
    both: WithContacts,
) -> None:
    p = await linked_pair(both)
    head = await both.head()
    body = await refused(both, await relink(both, p["worker"], p["second"], "2026-02-15"), head)
    assert (body["code"], body["field"]) == ("link_change_before_start", "assigned_on")
    assert "2026-02-15" in body["detail"]
    assert "the current link started on 2026-03-01" in body["detail"]
    assert await upper_of(both, p["worker"]) == p["first"]


async def test_a_relink_dated_before_a_just_logged_contact_is_refused_naming_its_date(
    both: WithContacts,
) -> None:
    p = await linked_pair(both)
    await both.contact(p["first"], p["worker"], CONTACT)
    await both.publish_contacts()  # the roster's handler catches its replica up itself
    head = await both.head()
    for day in ("2026-05-01", "2026-05-02"):  # the end day is the next link's
        body = await refused(both, await relink(both, p["worker"], p["second"], day), head)
        assert (body["code"], body["field"]) == ("link_change_before_contact", "assigned_on")
        assert "a contact on 2026-05-02 was logged on the current link" in body["detail"]
    assert await upper_of(both, p["worker"]) == p["first"]


async def test_a_relink_dated_after_the_latest_contact_is_accepted(both: WithContacts) -> None:
    p = await linked_pair(both)
    await both.contact(p["first"], p["worker"], date(2026, 4, 10))
    await both.contact(p["first"], p["worker"], CONTACT)
    await both.publish_contacts()
    answer = await relink(both, p["worker"], p["second"], "2026-05-03")
    assert answer.status_code == 200, answer.text
    assert await upper_of(both, p["worker"]) == p["second"]


async def test_an_unlink_is_refused_before_the_start_or_the_latest_contact_and_accepted_after(
    both: WithContacts,
) -> None:
    p = await linked_pair(both)
    await both.contact(p["first"], p["worker"], CONTACT)
    await both.publish_contacts()
    head = await both.head()
    body = await refused(both, await unlink(both, p["worker"], "2026-02-28"), head)
    assert (body["code"], body["field"]) == ("link_change_before_start", "unassigned_on")
    assert "2026-03-01" in body["detail"]
    body = await refused(both, await unlink(both, p["worker"], "2026-04-30"), head)
    assert (body["code"], body["field"]) == ("link_change_before_contact", "unassigned_on")
    assert "a contact on 2026-05-02" in body["detail"]
    answer = await unlink(both, p["worker"], "2026-05-03")
    assert answer.status_code == 200, answer.text
    assert await upper_of(both, p["worker"]) is None


async def test_a_corrected_or_retracted_contact_holds_the_link_by_its_new_state(
    both: WithContacts,
) -> None:
    p = await linked_pair(both)
    moved = await both.contact(p["first"], p["worker"], date(2026, 6, 1))
    withdrawn = await both.contact(p["first"], p["worker"], date(2026, 6, 20))
    await both.on_contact(moved, "correction", contacted_on="2026-04-02", reason="记错日期")
    await both.on_contact(withdrawn, "retraction", reason="误录")
    await both.publish_contacts()
    head = await both.head()
    body = await refused(both, await unlink(both, p["worker"], "2026-04-02"), head)
    assert "a contact on 2026-04-02" in body["detail"]
    answer = await unlink(both, p["worker"], "2026-04-03")
    assert answer.status_code == 200, answer.text


async def test_a_departure_dated_before_a_meeting_with_the_members_workers_is_refused(
    both: WithContacts,
) -> None:
    p = await linked_pair(both)
    other = await both.member(p["unit"], "worker", registered_on="2025-01-01")
    await both.link(p["first"], other, assigned_on="2026-04-01")
    await both.publish_roster()
    await both.meeting(p["first"], [p["worker"], other], CONTACT)
    await both.publish_contacts()
    head = await both.head()
    answer = await both.client.post(
        f"/members/{p['first']}/departure", json={"departed_on": "2026-05-01"}
    )
    body = await refused(both, answer, head)
    assert (body["code"], body["field"]) == ("link_change_before_contact", "departed_on")
    assert "a contact on 2026-05-02 was logged on the link with lower member" in body["detail"]
    answer = await both.client.post(
        f"/members/{p['first']}/tier", json={"tier": "committee", "changed_on": "2026-03-15"}
    )
    body = await refused(both, answer, head)
    assert (body["code"], body["field"]) == ("link_change_before_start", "changed_on")
    assert f"the link with lower member {other} started on 2026-04-01" in body["detail"]
    answer = await both.client.post(
        f"/members/{p['first']}/departure", json={"departed_on": "2026-05-03"}
    )
    assert answer.status_code == 200, answer.text


async def test_forgetting_a_member_is_not_held_up_by_a_contact_on_their_link(
    both: WithContacts,
) -> None:
    p = await linked_pair(both)
    await both.contact(p["first"], p["worker"], date(2026, 6, 30))  # today
    await both.publish_contacts()
    answer = await both.client.post(f"/members/{p['worker']}/forget")
    assert answer.status_code == 200, answer.text


def csv_file(*rows: list[str]) -> bytes:
    return ("\r\n".join(",".join(row) for row in rows) + "\r\n").encode()


async def upload(t: WithContacts, kind: str, data: bytes, *, dry_run: bool) -> dict[str, Any]:
    params = {"kind": kind, "dry_run": "true" if dry_run else "false"}
    files = {"file": (f"{kind}.csv", data, "text/csv")}
    answer = await t.client.post("/imports", params=params, files=files)
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    return report


async def test_the_import_never_moves_a_linked_member_off_the_link_of_their_contacts(
    both: WithContacts,
) -> None:
    """The import adds links and never ends one, so it cannot leave a contact on no link: a
    row putting a linked member under another upper member is refused in a dry run and in
    earnest (relink instead), and nothing is stored."""
    units = csv_file(["code", "name", "kind"], ["YJ", "跃进煤业工会", "city_federation"])
    members = csv_file(
        ["unit_code", "external_number", "tier", "name", "registered_on"],
        ["YJ", "R001", "representative", "张东峰", "2025-01-01"],
        ["YJ", "R002", "representative", "李建华", "2025-01-01"],
        ["YJ", "W001", "worker", "王师傅", "2025-01-01"],
    )
    header = ["upper_unit_code", "upper_external_number", "lower_unit_code"]
    header += ["lower_external_number", "assigned_on"]
    first = csv_file(header, ["YJ", "R001", "YJ", "W001", "2026-03-01"])
    for kind, data in (("units", units), ("members", members), ("links", first)):
        assert (await upload(both, kind, data, dry_run=False))["applied"]
    await both.publish_roster()
    rep = (await both.ok("GET", "/members", params={"q": "张东峰"}))["data"][0]["member_id"]
    worker = (await both.ok("GET", "/members", params={"q": "王师傅"}))["data"][0]["member_id"]
    await both.contact(rep, worker, CONTACT)
    await both.publish_contacts()
    head = await both.head()
    moved = csv_file(header, ["YJ", "R002", "YJ", "W001", "2026-05-01"])
    report = await upload(both, "links", moved, dry_run=True)
    [problem] = report["problems"]
    assert (problem["row"], problem["column"]) == (2, "lower_external_number")
    assert "relink instead" in problem["message"]
    assert await both.head() == head
    assert await upper_of(both, worker) == rep
