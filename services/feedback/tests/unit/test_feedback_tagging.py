"""Tags as pure rules: the committed vocabulary, suggesting tags from a text, choosing,
re-tagging by the holder; and a representative raising for their own worker must choose."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from eventspine.errors import DomainError, NotPermittedError, StateConflictError
from feedback import commands as cmd
from feedback import domain, tagging
from feedback import events as ev
from feedback.state import MemberInfo, Routing, Suggestion

VOCABULARY = tagging.load()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_committed_vocabulary_has_stable_codes_chinese_words_and_keywords() -> None:
    codes = VOCABULARY.codes()
    assert len(codes) == len(set(codes)) >= 10
    for tag in VOCABULARY.tags:
        assert tagging._is_code(tag.code), tag.code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in tag.zh), tag.zh
        assert tag.keywords, tag.code


def test_a_vocabulary_refuses_a_code_that_events_could_not_carry_or_a_repeated_one() -> None:
    with pytest.raises(ValueError, match="lowercase"):
        tagging.parse('[[tag]]\ncode = "Canteen"\nzh = "食堂"\n')
    with pytest.raises(ValueError, match="twice"):
        tagging.parse('[[tag]]\ncode = "canteen"\nzh = "食堂"\n' * 2)


def test_keywords_suggest_tags_in_the_vocabularys_order_and_only_a_few() -> None:
    assert tagging.suggest("井下通风差，粉尘大，希望改善", VOCABULARY) == (
        "workplace_safety",
        "occupational_health",
    )
    assert tagging.suggest("食堂饭菜太贵", VOCABULARY) == ("canteen",)
    assert tagging.suggest("谢谢工会", VOCABULARY) == ()
    many = "拖欠工资，经常加班，社保没交，劳动合同没签，食堂太差"
    assert len(tagging.suggest(many, VOCABULARY)) == tagging.SUGGESTED_AT_MOST


def test_keywords_match_full_width_and_upper_case_forms() -> None:
    vocabulary = tagging.parse('[[tag]]\ncode = "it_help"\nzh = "电脑"\nkeywords = ["wifi"]\n')
    assert tagging.suggest("车间ＷＩＦＩ太慢", vocabulary) == ("it_help",)


def test_tags_chosen_on_the_form_win_over_the_texts_and_none_chosen_are_suggested() -> None:
    sid, raiser = uuid.uuid4(), uuid.uuid4()
    [chosen] = tagging.on_arrival(sid, ["canteen", "canteen"], "井下通风差", VOCABULARY, raiser)
    assert (chosen.tags, chosen.source, chosen.tagged_by) == (["canteen"], "chosen", raiser)
    [suggested] = tagging.on_arrival(sid, [], "井下通风差", VOCABULARY, None)
    assert (suggested.tags, suggested.source) == (["workplace_safety"], "suggested")
    assert tagging.on_arrival(sid, [], "谢谢", VOCABULARY, None) == []


def test_an_unknown_tag_is_refused_naming_the_field_and_the_tag() -> None:
    with pytest.raises(DomainError) as refused:
        tagging.on_arrival(uuid.uuid4(), ["canteen", "bribery"], "食堂", VOCABULARY, None)
    assert (refused.value.field, refused.value.code) == ("tags", "tag_unknown")
    assert refused.value.params["tag"] == "bribery"


def _held(holder: uuid.UUID | None) -> Suggestion:
    return Suggestion(uuid.uuid4(), uuid.uuid4(), None, "held", holder, "committee", 0, T0)


def test_the_holder_retags_and_nobody_else_and_the_same_tags_change_nothing() -> None:
    holder = MemberInfo(uuid.uuid4(), "committee", "active", None)
    other = MemberInfo(uuid.uuid4(), "committee", "active", None)
    state = _held(holder.member_id)
    [event] = tagging.decide_retag(state, ["canteen"], holder, ["dormitory"], VOCABULARY)
    assert (event.tags, event.source, event.tagged_by) == (
        ["dormitory"],
        "retagged",
        holder.member_id,
    )
    assert tagging.decide_retag(state, ["canteen"], holder, ["canteen"], VOCABULARY) == []
    with pytest.raises(NotPermittedError):
        tagging.decide_retag(state, [], other, ["canteen"], VOCABULARY)
    leader = MemberInfo(uuid.uuid4(), "leader", "active", None)
    # At the top of the chain a leadership member sets them; no tags to none: nothing.
    assert tagging.decide_retag(_held(None), [], leader, [], VOCABULARY) == []
    [top] = tagging.decide_retag(_held(None), [], leader, ["canteen"], VOCABULARY)
    assert top.tags == ["canteen"]


def test_current_tags_are_the_last_tagging() -> None:
    sid = uuid.uuid4()
    events = [
        ev.SuggestionTagged(suggestion_id=sid, tags=["a1"], source="chosen", tagged_by=None),
        ev.SuggestionTagged(suggestion_id=sid, tags=["b2"], source="retagged", tagged_by=None),
    ]
    assert tagging.current_tags(events) == ["b2"]


def test_raising_for_your_own_worker_without_a_choice_is_refused_naming_then() -> None:
    rep = MemberInfo(uuid.uuid4(), "representative", "active", uuid.uuid4())
    mine = MemberInfo(uuid.uuid4(), "worker", "active", rep.member_id)
    command = cmd.RaiseSuggestion(
        text="食堂饭菜太贵",
        category="wages_and_welfare",
        channel="visit",
        on_behalf_of=mine.member_id,
    )
    to_me = Routing(rep.member_id, "representative", "upper_contact")
    with pytest.raises(StateConflictError) as refused:
        domain.decide_raise(command, uuid.uuid4(), None, rep, mine, to_me)
    assert (refused.value.field, refused.value.code) == ("then", "raise_choice_required")
