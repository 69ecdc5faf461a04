"""Contacts over HTTP, with the roster replica fed by real roster events."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from contacts_driver import Topology

pytestmark = pytest.mark.integration


async def pair(t: Topology, linked_on: date = date(2025, 6, 1)) -> tuple[str, str, str]:
    unit = await t.unit()
    rep = await t.member(unit, "representative")
    worker = await t.member(unit, "worker")
    await t.link(rep, worker, linked_on)
    await t.sync()
    return unit, rep, worker


async def test_two_contacts_in_the_year_make_the_link_met_on_its_card(both: Topology) -> None:
    _, rep, worker = await pair(both)
    first = await both.contact(
        rep, worker, date(2026, 3, 15), note="谈了井下通风", topics=["safety"]
    )
    assert first.status_code == 201, first.text
    links = await both.ok(both.contacts, "GET", f"/members/{rep}/links")
    assert [s["standing"]["status"] for s in links] == ["behind"]
    assert links[0]["standing"]["next_due"] == "2026-12-31"
    await both.contact(rep, worker, date(2026, 9, 1), initiated_by="lower")
    card = await both.ok(both.contacts, "GET", f"/links/{links[0]['link']['link_id']}/card")
    assert card["counts_per_year"] == {"2026": 2}
    assert card["standing"]["status"] == "met"
    assert card["last_contact_on"] == "2026-09-01"
    assert card["contacts"][0]["note"] == "谈了井下通风"
    assert (await both.ok(both.contacts, "GET", f"/members/{rep}/due"))["count"] == 0


async def test_the_due_list_puts_the_most_urgent_link_first(both: Topology) -> None:
    unit, rep, met = await pair(both)
    behind = await both.member(unit, "worker")
    never = await both.member(unit, "worker")
    await both.link(rep, behind, date(2025, 1, 1))
    await both.link(rep, never, date(2025, 1, 1))
    await both.sync()
    for day in (date(2026, 2, 1), date(2026, 8, 1)):
        await both.contact(rep, met, day)
    await both.contact(rep, behind, date(2026, 2, 1))
    due = await both.ok(both.contacts, "GET", f"/members/{rep}/due")
    assert [(d["link"]["lower_member_id"], d["standing"]["next_due"]) for d in due["data"]] == [
        (never, "2026-07-02"),
        (behind, "2026-12-31"),
    ]


async def test_a_retried_command_with_the_same_key_stores_one_contact(both: Topology) -> None:
    _, rep, worker = await pair(both)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {
        "upper_member_id": rep,
        "lower_member_id": worker,
        "contacted_on": "2026-05-05",
        "method": "phone",
    }
    answers = [await both.contacts.post("/contacts", json=body, headers=key) for _ in range(3)]
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["events"][0]["event_id"] for a in answers}) == 1
    card = (await both.ok(both.contacts, "GET", f"/members/{rep}/links"))[0]
    assert card["standing"]["counted"] == 1


async def test_after_a_relink_old_contacts_stay_on_the_old_card(both: Topology) -> None:
    unit, rep, worker = await pair(both)
    await both.contact(rep, worker, date(2026, 3, 1))
    old_link = (await both.ok(both.contacts, "GET", f"/members/{rep}/links"))[0]["link"]
    other = await both.member(unit, "representative")
    await both.ok(
        both.roster,
        "POST",
        "/links/relink",
        json={"lower_member_id": worker, "upper_member_id": other, "assigned_on": "2026-06-01"},
    )
    await both.sync()
    assert (await both.contact(other, worker, date(2026, 7, 1))).status_code == 201
    late_on_old = await both.contact(rep, worker, date(2026, 7, 2))
    assert late_on_old.status_code == 409
    assert late_on_old.json()["code"] == "after_link"
    assert late_on_old.json()["params"] == {"date": "2026-07-02", "ended_on": "2026-06-01"}
    old_card = await both.ok(both.contacts, "GET", f"/links/{old_link['link_id']}/card")
    assert [c["contacted_on"] for c in old_card["contacts"]] == ["2026-03-01"]
    assert old_card["link"]["unassigned_on"] == "2026-06-01"
    new = (await both.ok(both.contacts, "GET", f"/members/{other}/links"))[0]
    assert (new["standing"]["counted"], new["last_contact_on"]) == (1, "2026-07-01")


async def test_a_group_meeting_logs_one_contact_per_participant(both: Topology) -> None:
    unit, rep, first = await pair(both)
    second = await both.member(unit, "worker")
    await both.link(rep, second, date(2025, 1, 1))
    await both.sync()
    meeting = await both.ok(
        both.contacts,
        "POST",
        "/meetings",
        json={
            "upper_member_id": rep,
            "lower_member_ids": [first, second],
            "contacted_on": "2026-04-01",
            "topics": ["training"],
            "note": "培训座谈会",
        },
    )
    assert len(meeting["events"]) == 2
    links = await both.ok(both.contacts, "GET", f"/members/{rep}/links")
    assert [s["standing"]["counted"] for s in links] == [1, 1]


async def test_bad_input_is_refused_clearly_and_stores_nothing(both: Topology) -> None:
    unit, rep, worker = await pair(both, linked_on=date(2026, 2, 1))
    stranger = await both.member(unit, "worker")
    await both.sync()
    head = await both.contacts_state.store.head_position()
    base = {"upper_member_id": rep, "lower_member_id": worker, "method": "visit"}
    cases = [
        ({**base, "contacted_on": "2026-12-01"}, 409, "date_in_future"),
        ({**base, "contacted_on": "2026-01-15"}, 409, "before_link"),
        ({**base, "contacted_on": "2026-03-01", "method": "telegram"}, 422, "not_one_of"),
        (
            {**base, "contacted_on": "2026-03-01", "lower_member_id": stranger},
            409,
            "pair_not_linked",
        ),
        ({**base, "contacted_on": "2026-03-01", "note": "字" * 501}, 422, "too_long"),
    ]
    for body, status, code in cases:
        answer = await both.contacts.post("/contacts", json=body)
        assert answer.status_code == status, answer.text
        assert code in {answer.json()["code"], *(e["code"] for e in answer.json()["errors"])}
    unknown = await both.contacts.post(
        f"/contacts/{uuid.uuid4()}/retraction", json={"reason": "录入错误"}
    )
    assert unknown.status_code == 404
    assert await both.contacts_state.store.head_position() == head


async def test_corrections_and_retractions_are_new_events(both: Topology) -> None:
    _, rep, worker = await pair(both)
    made = await both.contact(rep, worker, date(2026, 3, 1), note="初稿")
    contact_id = made.json()["events"][0]["stream_id"].removeprefix("contact-")
    await both.ok(
        both.contacts,
        "POST",
        f"/contacts/{contact_id}/correction",
        json={"contacted_on": "2026-03-02", "note": "更正", "reason": "日期记错"},
    )
    shown = await both.ok(both.contacts, "GET", f"/contacts/{contact_id}")
    assert (shown["contacted_on"], shown["note"]) == ("2026-03-02", "更正")
    await both.ok(
        both.contacts, "POST", f"/contacts/{contact_id}/retraction", json={"reason": "重复录入"}
    )
    links = await both.ok(both.contacts, "GET", f"/members/{rep}/links")
    assert links[0]["standing"]["counted"] == 0
    again = await both.contacts.post(f"/contacts/{contact_id}/retraction", json={"reason": "x"})
    assert again.status_code == 409


async def test_the_card_shows_every_contact_the_retracted_marked_the_corrected_with_what_changed(
    both: Topology,
) -> None:
    _, rep, worker = await pair(both)

    async def logged(on: date, **extra: object) -> str:
        made = await both.contact(rep, worker, on, **extra)
        assert made.status_code == 201, made.text
        return str(made.json()["events"][0]["stream_id"].removeprefix("contact-"))

    corrected, withdrawn = (
        await logged(date(2026, 3, 1), note="初稿"),
        await logged(date(2026, 5, 1)),
    )
    redated = await logged(date(2026, 8, 1), note="谈了工资")
    for contact_id, body in (
        (corrected, {"contacted_on": "2026-03-02", "method": "phone", "note": "更正"}),
        (redated, {"contacted_on": "2026-08-03"}),
    ):
        await both.ok(
            both.contacts,
            "POST",
            f"/contacts/{contact_id}/correction",
            json={**body, "reason": "日期记错"},
        )
    await both.ok(
        both.contacts, "POST", f"/contacts/{withdrawn}/retraction", json={"reason": "重复录入"}
    )
    link_id = (await both.ok(both.contacts, "GET", f"/members/{rep}/links"))[0]["link"]["link_id"]
    card = await both.ok(both.contacts, "GET", f"/links/{link_id}/card")

    assert [c["contact_id"] for c in card["contacts"]] == [corrected, withdrawn, redated]
    by_id = {c["contact_id"]: c for c in card["contacts"]}
    assert by_id[withdrawn]["retracted"] is True
    assert by_id[withdrawn]["retraction"] == {
        "retracted_at": "2026-11-20T09:00:00Z",
        "reason": "重复录入",
    }
    assert by_id[withdrawn]["corrections"] == []
    assert by_id[corrected]["retraction"] is None
    assert by_id[corrected]["corrections"] == [
        {
            "corrected_at": "2026-11-20T09:00:00Z",
            "reason": "日期记错",
            "changed": ["contacted_on", "method", "note"],
            "contacted_on_from": "2026-03-01",
            "contacted_on_to": "2026-03-02",
            "method_from": "visit",
            "method_to": "phone",
            "note_changed": True,
        }
    ]
    only_date = by_id[redated]["corrections"]
    assert [(c["changed"], c["note_changed"]) for c in only_date] == [(["contacted_on"], False)]
    # What counts leaves the withdrawn contact out.
    assert card["counts_per_year"] == {"2026": 2}
    assert card["standing"]["counted"] == 2
    assert card["last_contact_on"] == "2026-08-03"
    one = await both.ok(both.contacts, "GET", f"/contacts/{corrected}")
    assert one["corrections"] == by_id[corrected]["corrections"]


async def test_the_standing_says_from_when_a_link_started_in_the_period_owes_its_share(
    both: Topology,
) -> None:
    _, rep, _ = await pair(both, linked_on=date(2026, 7, 1))
    links = await both.ok(both.contacts, "GET", f"/members/{rep}/links")
    standing = links[0]["standing"]
    assert (standing["required"], standing["active_from"], standing["active_until"]) == (
        1,
        "2026-07-01",
        "2026-12-31",
    )
    assert standing["whole_period"] is False


async def test_a_link_the_replica_has_not_seen_yet_is_a_retryable_409(
    pg_topology: Topology,
) -> None:
    t = pg_topology
    unit = await t.unit()
    rep, worker = await t.member(unit, "representative"), await t.member(unit, "worker")
    await t.sync()
    # The replica stops, then the roster publishes a link: the replica is behind what the
    # roster has published, so "no link" may only mean "not arrived yet".
    await t.contacts_state.feed.stop()
    await t.link(rep, worker, date(2026, 1, 5))
    assert t.relay is not None
    await t.relay.drain()
    answer = await t.contact(rep, worker, date(2026, 3, 1))
    assert answer.status_code == 409, answer.text
    assert answer.json()["code"] == "link_not_known_yet"
    assert answer.headers["Retry-After"] == "1"


async def test_a_pair_without_a_link_is_not_linked_once_the_replica_is_level(
    both: Topology,
) -> None:
    unit, rep, worker = await pair(both)
    stranger = await both.member(unit, "worker")
    await both.sync()
    head = await both.contacts_state.store.head_position()
    answer = await both.contact(rep, stranger, date(2026, 3, 1))
    assert answer.status_code == 409, answer.text
    assert answer.json()["code"] == "pair_not_linked"
    (refusal,) = answer.json()["errors"]
    assert refusal["field"] == "lower_member_id"
    assert "Retry-After" not in answer.headers
    meeting = await both.contacts.post(
        "/meetings",
        json={
            "upper_member_id": rep,
            "lower_member_ids": [worker, stranger],
            "contacted_on": "2026-04-01",
        },
    )
    assert meeting.status_code == 409, meeting.text
    assert meeting.json()["code"] == "pair_not_linked"
    assert meeting.json()["field"] == "lower_member_ids.1"
    assert "Retry-After" not in meeting.headers
    assert await both.contacts_state.store.head_position() == head


async def test_notes_and_reasons_refuse_control_characters(both: Topology) -> None:
    _, rep, worker = await pair(both)
    made = await both.contact(rep, worker, date(2026, 3, 1), note="第一行\n\t第二行")
    assert made.status_code == 201, made.text  # line breaks and tabs are kept
    contact_id = made.json()["events"][0]["stream_id"].removeprefix("contact-")
    head = await both.contacts_state.store.head_position()
    body = {"contacted_on": "2026-03-02", "method": "visit"}
    for url, payload, field in (
        (
            "/contacts",
            {**body, "upper_member_id": rep, "lower_member_id": worker, "note": "响铃\x07"},
            "note",
        ),
        (f"/contacts/{contact_id}/correction", {"note": "改\x1b[2J", "reason": "更正"}, "note"),
        (f"/contacts/{contact_id}/correction", {"note": "改", "reason": "原因\x9b"}, "reason"),
        (f"/contacts/{contact_id}/retraction", {"reason": "重复录入\x01"}, "reason"),
    ):
        answer = await both.contacts.post(url, json=payload)
        assert answer.status_code == 422, (url, answer.text)
        (refusal,) = answer.json()["errors"]
        assert (refusal["field"], refusal["code"]) == (field, "control_character"), answer.text
    assert await both.contacts_state.store.head_position() == head


async def test_when_the_roster_forgets_a_worker_their_contact_notes_become_unreadable(
    both: Topology,
) -> None:
    _, rep, worker = await pair(both)
    made = await both.contact(rep, worker, date(2026, 3, 1), note="家住矿区三号楼")
    contact_id = made.json()["events"][0]["stream_id"].removeprefix("contact-")
    await both.ok(both.roster, "POST", f"/members/{worker}/forget")
    await both.sync()
    shown = await both.ok(both.contacts, "GET", f"/contacts/{contact_id}")
    assert shown["note"] is None
    stored = await both.contacts_state.store.read_stream(f"contact-{contact_id}")
    sealed = stored[0].data["note"]
    assert sealed.startswith("v1.")
    assert await both.contacts_state.handlers.vault.unseal(uuid.UUID(worker), sealed) is None
