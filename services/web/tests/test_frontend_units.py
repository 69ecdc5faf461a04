"""The frontend's own rules, without a browser: catalogue, refusals, session, redirects."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import httpx
from babel.messages.extract import extract_from_dir

from servicekit.problems import FieldProblem, problem_body
from web.frontend.app import create_frontend
from web.frontend.errors import describe
from web.frontend.i18n import Languages, load_catalogue
from web.frontend.services import Services, error_from
from web.frontend.settings import WebSettings

WEB = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def test_every_message_of_the_pages_has_a_chinese_translation_with_the_same_placeholders() -> None:
    methods = [
        ("web/frontend/**.py", "python"),
        ("web/frontend/templates/**.html", "jinja2"),
    ]
    options = {"web/frontend/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            WEB, methods, keywords={"_": None, "N_": None, "gettext": None}, options_map=options
        )
    }
    catalogue = load_catalogue("zh_CN")
    assert len(found) > 200
    missing = sorted(m for m in found if m not in catalogue.messages or not catalogue.messages[m])
    assert missing == []
    for message in found:
        translated = catalogue.gettext(message)
        assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(message))


def test_dates_and_numbers_follow_the_language() -> None:
    languages = Languages()
    chinese, english = languages.pick("zh_CN"), languages.pick("en")
    assert chinese.date(date(2026, 3, 15)) == "2026年3月15日"
    assert english.date(date(2026, 3, 15)) == "15 Mar 2026"
    assert chinese.number(12345) == "12,345"
    assert english.percent(87.5) == "87.5%"
    assert languages.pick(None).code == "zh_CN"
    assert languages.pick("fr").code == "zh_CN"


def test_a_validation_refusal_goes_beside_its_field_and_a_state_refusal_to_the_top() -> None:
    zh = Languages().pick("zh_CN")
    invalid = error_from(
        httpx.Response(
            422,
            json=problem_body(
                "invalid_request",
                "text: too short; topic: unknown",
                params={"count": 2},
                errors=[
                    FieldProblem(field="text", location="body", code="required", detail="x"),
                    FieldProblem(field="topic", location="body", code="not_one_of", detail="y"),
                ],
            ),
        )
    )
    problem = describe(invalid, {"text"})
    assert {k: zh.gettext(v) for k, v in problem.fields.items()} == {"text": "请填写此项。"}
    assert problem.message is not None
    assert zh.gettext(problem.message) == "请选择一个选项。"
    conflict = error_from(
        httpx.Response(
            409,
            json=problem_body(
                "wrong_status",
                "cannot answer a suggestion that is closed",
                field="status",
                params={"status": "closed", "allowed": ["held", "acknowledged"]},
            ),
        )
    )
    problem = describe(conflict, {"answer"})
    assert problem.fields == {}
    assert problem.message is not None
    said = zh.gettext(problem.message)
    assert said == "该意见建议当前为“已办结”，此操作须为“待签收、已签收”。"
    assert "closed" not in said
    assert problem.detail == []


async def test_a_form_without_the_session_csrf_token_is_refused() -> None:
    app = create_frontend(lambda: Services({}), WebSettings())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
            page = await client.get("/login")
            assert page.status_code == 200
            assert "sanlian_session" in page.cookies
            forged = await client.post("/login", data={"username": "a", "password": "b"})
            assert forged.status_code == 403
            assert "表单已过期" in forged.text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token is not None
            empty = await client.post(
                "/login", data={"csrf_token": token.group(1), "username": "", "password": ""}
            )
            assert empty.status_code == 200
            assert empty.text.count("请填写此项。") == 2


async def test_the_language_switch_goes_back_only_to_a_page_of_this_site() -> None:
    app = create_frontend(lambda: Services({}), WebSettings())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
            page = await client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token is not None
            form = {"csrf_token": token.group(1), "language": "en"}
            away = await client.post("/language", data={**form, "next": "//evil.example/"})
            assert away.headers["location"] == "/"
            home = await client.post("/language", data={**form, "next": "/login?x=1"})
            assert home.headers["location"] == "/login?x=1"
            assert (await client.get("/login")).text.count("Sign in") >= 2
