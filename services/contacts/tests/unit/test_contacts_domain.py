"""The contacts rules on plain values: no store, no replica, no clock."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from contacts import commands as cmd
from contacts import domain
from contacts import events as ev
from contacts.domain import Contact
from contacts.replica import Link
from eventspine.errors import DomainError, NotFoundError, StateConflictError

UPPER, LOWER, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
TODAY = date(2026, 6, 30)
SEALED = "v1.sealed-note"


def link(assigned_on: date, unassigned_on: date | None = None, lower: uuid.UUID = LOWER) -> Link:
    return Link(uuid.uuid4(), UPPER, lower, assigned_on, unassigned_on)


FIRST = link(date(2026, 1, 1), date(2026, 3, 1))
SECOND = link(date(2026, 3, 1))
RELINKED = [SECOND, FIRST]
"""The pair was linked, unlinked on 1 March, and linked again the same day."""


def contact(
    on: date = date(2026, 4, 1), *, link_id: uuid.UUID = SECOND.link_id, retracted: bool = False
) -> Contact:
    return Contact(uuid.uuid4(), link_id, UPPER, LOWER, on, "visit", SEALED, retracted)


def log(on: date = date(2026, 4, 1), **fields: Any) -> cmd.LogContact:
    return cmd.LogContact(
        upper_member_id=UPPER, lower_member_id=LOWER, contacted_on=on, method="visit", **fields
    )


def meeting(*lowers: uuid.UUID, on: date = date(2026, 4, 1)) -> cmd.LogMeeting:
    return cmd.LogMeeting(upper_member_id=UPPER, lower_member_ids=list(lowers), contacted_on=on)


def refusal(error: pytest.ExceptionInfo[DomainError]) -> tuple[int, str, str]:
    return error.value.status, error.value.field, error.value.reason


# evolve_contact


def test_a_contact_made_is_the_state_of_its_stream() -> None:
    made = ev.ContactMade(
        contact_id=uuid.uuid4(),
        link_id=SECOND.link_id,
        upper_member_id=UPPER,
        lower_member_id=LOWER,
        contacted_on=date(2026, 4, 1),
        method="visit",
        initiated_by="upper",
        note=SEALED,
    )
    state = domain.evolve_contact(None, made)
    assert state == Contact(
        made.contact_id, SECOND.link_id, UPPER, LOWER, date(2026, 4, 1), "visit", SEALED
    )


def test_a_correction_replaces_the_date_method_and_note_and_keeps_the_link() -> None:
    before = contact()
    corrected = ev.ContactCorrected(
        contact_id=before.contact_id,
        contacted_on=date(2026, 4, 2),
        method="phone",
        note="v1.other",
        reason="日期记错",
    )
    after = domain.evolve_contact(before, corrected)
    assert after is not None
    assert (after.contacted_on, after.method, after.note) == (date(2026, 4, 2), "phone", "v1.other")
    assert after.link_id == before.link_id
    assert not after.retracted


def test_a_retraction_marks_the_contact_retracted() -> None:
    retracted = ev.ContactRetracted(contact_id=uuid.uuid4(), reason="误录")
    after = domain.evolve_contact(contact(), retracted)
    assert after is not None
    assert after.retracted


def test_a_stream_without_its_contact_made_has_no_contact() -> None:
    retracted = ev.ContactRetracted(contact_id=uuid.uuid4(), reason="误录")
    assert domain.evolve_contact(None, retracted) is None


# not_in_future


def test_a_date_of_today_is_not_in_the_future() -> None:
    assert domain.not_in_future(TODAY, TODAY, "contacted_on") == TODAY


def test_a_date_after_today_is_refused_naming_the_field() -> None:
    with pytest.raises(DomainError) as error:
        domain.not_in_future(date(2026, 7, 1), TODAY, "contacted_on")
    assert refusal(error) == (409, "contacted_on", "2026-07-01 is in the future")


# covers and link_for


def test_links_cover_a_day_only_when_one_is_active_on_it() -> None:
    assert domain.covers(RELINKED, date(2026, 2, 1))
    assert not domain.covers([FIRST], date(2026, 3, 1))
    assert not domain.covers([], TODAY)


def test_a_contact_belongs_to_the_link_active_on_its_date() -> None:
    assert domain.link_for(RELINKED, date(2026, 2, 28)) == FIRST
    assert domain.link_for(RELINKED, date(2026, 5, 1)) == SECOND


def test_the_day_a_link_ends_belongs_to_the_next_link() -> None:
    assert domain.link_for(RELINKED, date(2026, 3, 1)) == SECOND


def test_a_date_before_the_first_link_is_refused_with_the_day_they_were_linked() -> None:
    with pytest.raises(DomainError) as error:
        domain.link_for(RELINKED, date(2025, 12, 31), "lower_member_ids.2")
    assert refusal(error) == (
        409,
        "lower_member_ids.2",
        "2025-12-31 is before the link existed (linked on 2026-01-01)",
    )


def test_a_date_after_the_last_link_ended_is_refused_with_the_day_it_ended() -> None:
    with pytest.raises(DomainError) as error:
        domain.link_for([FIRST], date(2026, 3, 5))
    assert refusal(error) == (
        409,
        "contacted_on",
        "2026-03-05 is after the link ended (on 2026-03-01)",
    )


def test_a_pair_the_replica_shows_no_link_for_is_a_conflict_to_retry() -> None:
    with pytest.raises(StateConflictError) as error:
        domain.link_for([], TODAY)
    assert error.value.status == 409
    assert error.value.field == "lower_member_id"
    assert "retry shortly" in error.value.reason


def test_a_pair_with_no_link_on_a_level_replica_is_not_linked_without_a_retry() -> None:
    with pytest.raises(DomainError) as error:
        domain.link_for([], TODAY, replica_level=True)
    assert refusal(error) == (409, "lower_member_id", "is not linked to the upper member")
    with pytest.raises(DomainError) as error:
        domain.decide_log_contact(log(), None, [], TODAY, replica_level=True)
    assert "retry" not in error.value.reason
    with pytest.raises(DomainError) as error:
        domain.decide_log_meeting(meeting(LOWER, OTHER), [RELINKED, []], TODAY, replica_level=True)
    assert refusal(error) == (409, "lower_member_ids.1", "is not linked to the upper member")


# require_contact


def test_an_unknown_contact_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        domain.require_contact(None)


def test_a_retracted_contact_is_a_conflict() -> None:
    with pytest.raises(StateConflictError, match="the contact was retracted"):
        domain.require_contact(contact(retracted=True))


def test_a_live_contact_is_required_as_it_is() -> None:
    live = contact()
    assert domain.require_contact(live) is live


# decide_log_contact


def test_a_contact_is_logged_on_the_link_of_its_date_without_a_note_yet() -> None:
    command = log(date(2026, 2, 1), initiated_by="lower", topics=["safety"], note="井下通风")
    made = domain.decide_log_contact(command, None, RELINKED, TODAY)
    assert made.contact_id == command.contact_id
    assert made.link_id == FIRST.link_id
    assert (made.upper_member_id, made.lower_member_id) == (UPPER, LOWER)
    assert (made.contacted_on, made.method, made.initiated_by) == (
        date(2026, 2, 1),
        "visit",
        "lower",
    )
    assert made.topics == ["safety"]
    assert made.note is None  # sealed by the handler once the decision stands
    assert made.meeting_id is None


def test_a_contact_dated_tomorrow_is_refused() -> None:
    with pytest.raises(DomainError, match="is in the future"):
        domain.decide_log_contact(log(date(2026, 7, 1)), None, RELINKED, TODAY)


def test_a_contact_id_already_used_is_refused() -> None:
    with pytest.raises(StateConflictError, match="a contact with this id exists"):
        domain.decide_log_contact(log(), contact(), RELINKED, TODAY)


def test_a_future_date_is_refused_before_the_id_is_looked_at() -> None:
    with pytest.raises(DomainError) as error:
        domain.decide_log_contact(log(date(2026, 7, 1)), contact(), [], TODAY)
    assert error.value.status == 409


def test_a_contact_between_members_not_linked_is_refused() -> None:
    with pytest.raises(StateConflictError) as error:
        domain.decide_log_contact(log(), None, [], TODAY)
    assert error.value.field == "lower_member_id"


# decide_log_meeting


def test_a_meeting_logs_one_contact_per_participant_on_their_own_link() -> None:
    theirs = link(date(2026, 2, 1), lower=OTHER)
    command = meeting(LOWER, OTHER)
    made = domain.decide_log_meeting(command, [RELINKED, [theirs]], TODAY)
    assert [m.lower_member_id for m in made] == [LOWER, OTHER]
    assert [m.link_id for m in made] == [SECOND.link_id, theirs.link_id]
    assert {m.meeting_id for m in made} == {command.meeting_id}
    assert {m.method for m in made} == {"meeting"}
    assert {m.initiated_by for m in made} == {"upper"}
    assert [m.contact_id for m in made] == [
        domain.meeting_contact_id(command.meeting_id, LOWER),
        domain.meeting_contact_id(command.meeting_id, OTHER),
    ]


def test_a_participants_contact_id_follows_from_the_meeting_and_the_participant() -> None:
    meeting_id = uuid.uuid4()
    assert domain.meeting_contact_id(meeting_id, LOWER) == domain.meeting_contact_id(
        meeting_id, LOWER
    )
    assert domain.meeting_contact_id(meeting_id, LOWER) != domain.meeting_contact_id(
        meeting_id, OTHER
    )
    assert domain.meeting_contact_id(meeting_id, LOWER) != domain.meeting_contact_id(
        uuid.uuid4(), LOWER
    )


def test_a_participant_listed_twice_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        domain.decide_log_meeting(meeting(LOWER, LOWER), [RELINKED, RELINKED], TODAY)
    assert refusal(error) == (422, "lower_member_ids", "a participant is listed twice")


def test_a_meeting_in_the_future_is_refused() -> None:
    with pytest.raises(DomainError, match="is in the future"):
        domain.decide_log_meeting(meeting(LOWER, on=date(2026, 7, 1)), [RELINKED], TODAY)


def test_a_participant_not_linked_on_the_day_refuses_the_whole_meeting_naming_them() -> None:
    ended = link(date(2026, 1, 1), date(2026, 2, 1), lower=OTHER)
    with pytest.raises(DomainError) as error:
        domain.decide_log_meeting(meeting(LOWER, OTHER), [RELINKED, [ended]], TODAY)
    assert error.value.field == "lower_member_ids.1"
    assert "after the link ended" in error.value.reason


# decide_correction


def test_a_correction_of_the_method_keeps_the_date_and_the_sealed_note() -> None:
    before = contact()
    command = cmd.CorrectContact(method="phone", reason="方式记错")
    corrected = domain.decide_correction(before, command, [], TODAY)
    assert corrected.contact_id == before.contact_id
    assert (corrected.contacted_on, corrected.method) == (before.contacted_on, "phone")
    assert corrected.note == SEALED
    assert corrected.reason == "方式记错"


def test_a_correction_of_the_note_alone_keeps_the_method() -> None:
    command = cmd.CorrectContact(note="新的记录", reason="补充")
    corrected = domain.decide_correction(contact(), command, [], TODAY)
    assert corrected.method == "visit"
    assert corrected.note == SEALED  # the handler puts in the new note, sealed


def test_a_new_date_on_the_same_link_period_is_accepted() -> None:
    command = cmd.CorrectContact(contacted_on=date(2026, 5, 2), reason="日期记错")
    corrected = domain.decide_correction(contact(), command, RELINKED, TODAY)
    assert corrected.contacted_on == date(2026, 5, 2)


def test_a_new_date_on_another_link_period_is_refused() -> None:
    command = cmd.CorrectContact(contacted_on=date(2026, 2, 1), reason="日期记错")
    with pytest.raises(DomainError) as error:
        domain.decide_correction(contact(), command, RELINKED, TODAY)
    assert refusal(error) == (409, "contacted_on", "the new date falls on another link period")


def test_a_new_date_in_the_future_is_refused() -> None:
    command = cmd.CorrectContact(contacted_on=date(2026, 7, 1), reason="日期记错")
    with pytest.raises(DomainError, match="is in the future"):
        domain.decide_correction(contact(), command, RELINKED, TODAY)


def test_a_correction_that_changes_nothing_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        domain.decide_correction(contact(), cmd.CorrectContact(reason="无"), [], TODAY)
    assert refusal(error) == (
        422,
        "contacted_on",
        "nothing to correct: give a date, method or note",
    )


def test_a_retracted_contact_cannot_be_corrected() -> None:
    command = cmd.CorrectContact(method="phone", reason="方式记错")
    with pytest.raises(StateConflictError):
        domain.decide_correction(contact(retracted=True), command, [], TODAY)


def test_an_unknown_contact_cannot_be_corrected() -> None:
    command = cmd.CorrectContact(method="phone", reason="方式记错")
    with pytest.raises(NotFoundError):
        domain.decide_correction(None, command, [], TODAY)


# decide_retraction


def test_a_contact_is_retracted_with_the_reason() -> None:
    before = contact()
    retracted = domain.decide_retraction(before, cmd.RetractContact(reason="误录"))
    assert (retracted.contact_id, retracted.reason) == (before.contact_id, "误录")


def test_a_contact_cannot_be_retracted_twice() -> None:
    with pytest.raises(StateConflictError, match="the contact was retracted"):
        domain.decide_retraction(contact(retracted=True), cmd.RetractContact(reason="误录"))


def test_an_unknown_contact_cannot_be_retracted() -> None:
    with pytest.raises(NotFoundError):
        domain.decide_retraction(None, cmd.RetractContact(reason="误录"))
