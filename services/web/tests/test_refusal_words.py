"""Every refusal code the services can answer has words on the pages, in Chinese and in
English, with the values the code carries filled in; no service English reaches a page."""

from __future__ import annotations

import re

import httpx

from contracts.refusals import FIELD_CODES, REFUSALS
from servicekit.problems import FieldProblem, problem_body
from web.frontend.errors import describe
from web.frontend.i18n import Languages
from web.frontend.refusals import MESSAGES
from web.frontend.services import error_from

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
FIELD_VALUES = {
    "min_length",
    "max_length",
    "limit",
    "expected",
    "pattern",
    "char",
    "position",
    "role",
    "unknown",
    "known",
}
"""The values a field's code may carry (pydantic's constraints and our validators')."""


def test_every_code_of_the_catalogue_has_words_in_both_languages() -> None:
    codes = [*REFUSALS, *FIELD_CODES]
    assert len(codes) > 100
    missing = [code for code in codes if code not in MESSAGES]
    assert missing == []
    assert set(MESSAGES) == set(codes), "words for a code no service answers"
    zh = Languages().pick("zh_CN")
    untranslated = [
        code for code in codes if zh.catalogue.gettext(MESSAGES[code]) == MESSAGES[code]
    ]
    assert untranslated == []


def test_the_words_fill_in_only_values_the_code_carries() -> None:
    zh = Languages().pick("zh_CN")
    for code, words in MESSAGES.items():
        allowed = set(REFUSALS[code].params) if code in REFUSALS else FIELD_VALUES
        for text in (words, zh.catalogue.gettext(words)):
            assert set(PLACEHOLDER.findall(text)) <= allowed, (code, text)


def _refusal(code: str, field: str, **params: object) -> httpx.Response:
    if code in FIELD_CODES:  # a field's own fault: the request is invalid_request
        body = problem_body("invalid_request", "English", field=field, params={"count": 1})
    else:
        body = problem_body(code, "English for integrators", field=field, params=params)
    body["errors"] = [
        FieldProblem(field=field, code=code, detail="English", params=params).model_dump(
            by_alias=True
        )
    ]
    return httpx.Response(body["status"], json=body)


def test_a_full_span_reads_in_chinese_with_its_figures_beside_its_field() -> None:
    error = error_from(
        _refusal("span_full", "upper_member_id", tier="representative", span=10, limit=10)
    )
    problem = describe(error, {"upper_member_id"})
    languages = Languages()
    zh, en = languages.pick("zh_CN"), languages.pick("en")
    words = problem.fields["upper_member_id"]
    assert zh.gettext(words) == "该工会代表已联系 10 人（目标 10 人），超出须填写理由。"
    assert en.gettext(words) == (
        "This Representative already keeps in contact with 10 people (target 10); "
        "give a reason to exceed it."
    )
    assert problem.message is None  # said beside the field, not twice


def test_dates_and_positions_read_as_people_write_them() -> None:
    zh = Languages().pick("zh_CN")
    before = describe(
        error_from(
            _refusal("before_link", "contacted_on", date="2026-03-01", linked_on="2026-07-01")
        ),
        {"contacted_on"},
    )
    assert (
        zh.gettext(before.fields["contacted_on"]) == "2026年3月1日 早于结对日期（2026年7月1日）。"
    )
    control = describe(
        error_from(_refusal("control_character", "name", char="U+0007", position=0)), {"name"}
    )
    assert zh.gettext(control.fields["name"]) == "请删除第 1 个字符处的不可见字符（U+0007）。"


def test_an_unknown_code_reads_as_its_status_never_as_the_services_english() -> None:
    body = {"type": "/problems/new", "status": 409, "code": "something_new", "detail": "English"}
    problem = describe(error_from(httpx.Response(409, json=body)))
    zh = Languages().pick("zh_CN")
    assert problem.message is not None
    assert zh.gettext(problem.message) == "现在无法进行此操作。"
    assert all("English" not in zh.gettext(d) for d in problem.detail)
