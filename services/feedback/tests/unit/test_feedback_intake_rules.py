"""The workers' door as pure rules: links (one live per owner), signing, receiving, rating,
setting aside, and departments that act."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from eventspine.errors import DomainError, NotPermittedError, StateConflictError
from feedback import departments as dep
from feedback import events as ev
from feedback import intake
from feedback.domain import Unsealed
from feedback.intake import IntakeOwnerState, LinkInfo
from feedback.signing import Signer, normalise_code
from feedback.state import MemberInfo, Routing, Suggestion, evolve

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SIGNER = Signer(b"an auth secret of the installation", b"an index secret of 32 bytes long")


def person(tier: str = "representative") -> MemberInfo:
    return MemberInfo(uuid.uuid4(), tier, "active", None)


def link(revoked: bool = False) -> LinkInfo:
    holder = uuid.uuid4()
    return LinkInfo(uuid.uuid4(), "representative", holder, uuid.uuid4(), holder, revoked)


def received(**changes: object) -> Suggestion:
    base = Suggestion(uuid.uuid4(), None, None, "answered", uuid.uuid4(), "representative", 0, T0)
    return Suggestion(**{**base.__dict__, **changes})


def test_a_token_names_its_link_and_a_changed_one_names_nothing() -> None:
    link_id = uuid.uuid4()
    token = SIGNER.link_token(link_id)
    assert SIGNER.link_id(token) == link_id
    head, tail = token.split(".")
    changed = tail[:5] + ("B" if tail[5] == "A" else "A") + tail[6:]  # one signature byte
    assert SIGNER.link_id(f"{head}.{changed}") is None
    assert SIGNER.link_id(f"{SIGNER.link_token(uuid.uuid4()).split('.')[0]}.{tail}") is None
    assert SIGNER.link_id("not-a-token") is None
    # The last character carries padding bits: another spelling of the same bytes is refused.
    respelled = tail[:-1] + ("B" if tail[-1] == "A" else chr(ord(tail[-1]) ^ 1))
    assert SIGNER.link_id(f"{head}.{respelled}") is None
    other = Signer(b"another installation's secret!!", b"an index secret of 32 bytes long")
    assert other.link_id(token) is None


def test_a_follow_up_code_is_stable_unguessable_and_found_however_it_is_typed() -> None:
    sid = uuid.uuid4()
    code = SIGNER.follow_up_code(sid)
    assert code == SIGNER.follow_up_code(sid)
    assert code != SIGNER.follow_up_code(uuid.uuid4())
    assert len(code) == 16
    typed = "-".join(code[i : i + 4] for i in range(0, 16, 4)).lower()
    assert SIGNER.follow_up_index(typed) == SIGNER.follow_up_index(code)
    assert normalise_code("O0O0") is None  # not a code's shape: nothing is looked up


def test_issuing_again_revokes_the_live_link_in_the_same_decision() -> None:
    rep = person()
    first = intake.decide_issue(
        IntakeOwnerState(), uuid.uuid4(), "representative", rep, uuid.uuid4(), None, None, None
    )
    assert [type(e) for e in first] == [ev.IntakeLinkIssued]
    state = intake.evolve_owner(IntakeOwnerState(), first[0])
    again = intake.decide_issue(
        state, uuid.uuid4(), "representative", rep, uuid.uuid4(), None, None, None
    )
    assert [type(e) for e in again] == [ev.IntakeLinkRevoked, ev.IntakeLinkIssued]
    assert isinstance(again[0], ev.IntakeLinkRevoked)
    assert again[0].reissued
    with pytest.raises(NotPermittedError):
        intake.decide_issue(
            IntakeOwnerState(),
            uuid.uuid4(),
            "representative",
            person("worker"),
            None,
            None,
            None,
            None,
        )


def test_a_unit_link_names_an_active_member_of_that_unit() -> None:
    unit, committee, rep = uuid.uuid4(), person("committee"), person()
    issued = intake.decide_issue(
        IntakeOwnerState(), uuid.uuid4(), "unit", committee, None, rep, unit, unit
    )
    assert isinstance(issued[0], ev.IntakeLinkIssued)
    assert (issued[0].unit_id, issued[0].holder_id) == (unit, rep.member_id)
    with pytest.raises(DomainError, match="belong to the unit"):
        intake.decide_issue(
            IntakeOwnerState(), uuid.uuid4(), "unit", committee, None, rep, uuid.uuid4(), unit
        )
    with pytest.raises(NotPermittedError):
        intake.decide_issue(IntakeOwnerState(), uuid.uuid4(), "unit", rep, None, rep, unit, unit)


def receive(at: LinkInfo, **changes: object) -> intake.Arrival:
    values: dict[str, object] = {
        "category": "safety",
        "text": "井下通风差",
        "name": None,
        "phone": None,
        "worker_id": None,
        "follow_up_index": "0" * 64,
        "routing": Routing(at.holder_id, "representative", "upper_contact"),
        "recent": 0,
        "per_hour": 30,
        "duplicate": False,
        **changes,
    }
    return intake.decide_receive(at, uuid.uuid4(), None, **values)  # type: ignore[arg-type]


def test_receiving_refuses_a_revoked_link_a_flood_and_a_copy() -> None:
    with pytest.raises(intake.LinkRevokedError):
        receive(link(revoked=True))
    with pytest.raises(intake.TooManyError) as flood:
        receive(link(), recent=30)
    assert flood.value.status == 429
    with pytest.raises(intake.DuplicateSuggestionError):
        receive(link(), duplicate=True)


def test_a_received_suggestion_says_how_the_worker_is_known() -> None:
    at = link()
    for phone, worker, verification in (
        (None, None, "anonymous"),
        ("13900001111", None, "unverified"),
        ("13900001111", uuid.uuid4(), "matched"),
    ):
        arrival = receive(at, phone=phone, worker_id=worker)
        event = arrival.build("v1.dGV4dA", "v1.Y29udGFjdA" if phone else None)
        assert isinstance(event, ev.SuggestionReceived)
        assert (event.verification, event.worker_id) == (verification, worker)
        state = evolve(None, event, T0)
        assert state is not None
        assert (state.raised_by, state.holder_id, state.status) == (None, at.holder_id, "held")


def test_a_rating_closes_or_reopens_and_only_after_an_answer() -> None:
    state = received()
    [closing] = intake.decide_rate(state, None, "satisfied", None, False)
    assert isinstance(closing, ev.SuggestionRated)
    closed = evolve(state, closing, T0)
    assert closed is not None
    assert closed.status == "closed"
    [reopening] = intake.decide_rate(state, None, "dissatisfied", None, True)
    assert isinstance(reopening, ev.SuggestionRated)
    again = evolve(state, reopening, T0)
    assert again is not None
    assert (again.status, again.holder_id) == ("held", state.holder_id)
    with pytest.raises(DomainError, match="only a dissatisfied"):
        intake.decide_rate(state, None, "satisfied", None, True)
    with pytest.raises(StateConflictError, match="answered or resolved"):
        intake.decide_rate(received(status="held"), None, "satisfied", None, False)
    with pytest.raises(NotPermittedError):
        intake.decide_rate(received(raised_by=uuid.uuid4()), uuid.uuid4(), "satisfied", None, False)


def test_only_the_holder_sets_a_suggestion_aside_and_a_duplicate_names_another() -> None:
    holder = person()
    state = received(status="held", holder_id=holder.member_id)
    with pytest.raises(NotPermittedError):
        intake.decide_set_aside(state, person(), "spam", "广告", None, None)
    with pytest.raises(DomainError, match="name the suggestion"):
        intake.decide_set_aside(state, holder, "duplicate", "重复", None, None)
    with pytest.raises(DomainError, match="no such other"):
        intake.decide_set_aside(state, holder, "duplicate", "重复", uuid.uuid4(), None)
    [item] = intake.decide_set_aside(state, holder, "spam", "广告", None, None)
    assert isinstance(item, Unsealed)
    aside = evolve(state, item.build("v1.cmVhc29u"), T0)
    assert aside is not None
    assert aside.status == "set_aside"


def test_a_department_member_takes_up_once_what_is_assigned_to_the_department() -> None:
    clerk, leader = person("worker"), person("leader")
    [appointed] = dep.decide_appoint(
        dep.Department(), "training", leader, clerk, {"training": "宣教部"}
    )
    members = dep.evolve_department(dep.Department(), appointed)
    with pytest.raises(NotPermittedError):
        dep.decide_appoint(dep.Department(), "training", clerk, leader, {"training": "宣教部"})
    with pytest.raises(DomainError, match="unknown department"):
        dep.decide_appoint(dep.Department(), "legal", leader, clerk, {"training": "宣教部"})
    state = received(status="assigned", department="training", holder_id=None, holder_tier=None)
    [taken] = dep.decide_take_up(state, clerk, members)
    taken_state = evolve(state, taken, T0)
    assert taken_state is not None
    assert taken_state.taken_up_by == clerk.member_id
    with pytest.raises(StateConflictError, match="took it up already"):
        dep.decide_take_up(taken_state, clerk, members)
    with pytest.raises(NotPermittedError):
        dep.decide_take_up(state, person(), members)
