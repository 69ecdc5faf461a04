"""Pure pieces of the staff work: file names of exports, the handbook's Markdown, the papers'
renderer, the 通报's rankings, import problems in Chinese and history's labelled fields."""

from __future__ import annotations

import io
from datetime import date
from urllib.parse import unquote

import pytest
from pypdf import PdfReader

from web.frontend import history_view, import_problems
from web.frontend.exports import Table, disposition, file_name
from web.frontend.i18n import Languages
from web.frontend.papers import STATIC, PaperFetchRefused, check_fetch, render_pdf
from web.frontend.routes.bulletin import most_behind, ranked
from web.frontend.routes.papers import markdown

ZH = Languages().pick("zh_CN")
EN = Languages().pick("en")


def test_an_export_file_name_says_what_and_when_and_survives_as_rfc_5987() -> None:
    table = Table("Compliance", [], [], ["", "平定县总工会", "未联系"])
    name = file_name(ZH, table, date(2026, 12, 3), "xlsx")
    assert name == "联系达标-平定县总工会-未联系-2026-12-03.xlsx"
    header = disposition(name, "compliance-2026-12-03.xlsx")
    assert 'filename="compliance-2026-12-03.xlsx"' in header
    assert unquote(header.split("filename*=UTF-8''")[1]) == name
    slashed = file_name(EN, Table("Compliance", [], [], ["a/b"]), date(2026, 1, 2), "csv")
    assert slashed == "Compliance-a_b-2026-01-02.csv"


def test_the_handbooks_markdown_shows_html_as_text_and_starts_its_headings_at_h2() -> None:
    html = str(markdown("# 手册\n\n<img src=x onerror=alert(1)>\n\n## 频次"))
    assert "<h2>手册</h2>" in html
    assert "<h3>频次</h3>" in html
    assert "<img" not in html
    assert "&lt;img" in html


def test_a_paper_is_a4_and_fetches_nothing_from_the_network() -> None:
    with pytest.raises(PaperFetchRefused):
        check_fetch("http://127.0.0.1:9/secret.png")
    with pytest.raises(PaperFetchRefused):
        check_fetch("file:///etc/passwd")
    with pytest.raises(PaperFetchRefused):
        check_fetch((STATIC / ".." / ".." / "deps.py").as_uri())
    check_fetch((STATIC / "favicon.svg").as_uri())
    # The refused image is left out; the paper is made all the same.
    html = '<h1>联系卡：张东峰</h1><img src="http://127.0.0.1:9/x.png"><img src="favicon.svg">'
    pdf = render_pdf(html + "<p>王芳</p>")
    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    assert "联系卡：张东峰" in page.extract_text()
    assert "王芳" in page.extract_text()


def test_units_are_ranked_best_first_and_ties_share_a_rank() -> None:
    rows = [
        {"name": name, "tally": {"compliance_pct": pct, "links": links}}
        for name, pct, links in (("A", 50.0, 4), ("B", 0.0, 5), ("C", 50.0, 2), ("D", 80.0, 1))
    ]
    assert [(r["name"], r["rank"]) for r in ranked(rows)] == [
        ("D", 1),
        ("A", 2),
        ("C", 2),
        ("B", 4),
    ]


def test_the_members_most_behind_owe_the_most_contacts_and_ended_links_do_not_count() -> None:
    def link(upper: str, status: str, counted: int, ended: bool = False) -> dict[str, object]:
        return {
            "upper_member_id": upper,
            "upper_tier": "representative",
            "status": status,
            "required": 2,
            "counted": counted,
            "ended": ended,
        }

    links = [link("a", "none", 0), link("a", "behind", 1), link("b", "none", 0)]
    links += [link("b", "none", 0, ended=True), link("c", "met", 2)]
    assert [(r["member_id"], r["owed"], r["links"]) for r in most_behind(links)] == [
        ("a", 3, 2),
        ("b", 2, 1),
    ]


def test_import_problems_read_in_chinese_with_the_pages_words() -> None:
    said = import_problems.translate(
        ZH, "Input should be 'leader', 'committee', 'representative' or 'worker'"
    )
    assert said == "请填写以下之一：班子成员、全委会委员、工会代表或职工。"
    assert import_problems.translate(ZH, "the code appears again (first in row 3)") == (
        "代码重复（首次出现在第 3 行）。"
    )
    assert import_problems.translate(ZH, "something new") == "something new"


def test_history_shows_data_as_labelled_fields_with_names_and_sealed_data_as_such() -> None:
    data = {
        "member_id": "5e8f2a8e-1b7c-4f55-8a37-1d2a3b4c0001",
        "unit_id": "u1",
        "tier": "representative",
        "personal_data": "v1." + "A" * 40,
        "registered_on": "2025-11-01",
    }
    people = {data["member_id"]: {"name": "张东峰"}}
    shown = history_view.fields(ZH, data, people, {"u1": "跃进煤业工会"}, {})
    assert [(f.label, f.value) for f in shown] == [
        ("成员", "张东峰"),
        ("单位", "跃进煤业工会"),
        ("层级", "工会代表"),
        ("个人信息", "（个人信息已加密）"),
        ("登记日期", "2025年11月1日"),
    ]
    assert history_view.event_name(ZH, "sanlian.roster.MemberRegistered.v1") == "登记成员"


def test_the_actor_is_named_by_member_then_username_then_the_start_of_the_account() -> None:
    member, account = "5e8f2a8e-1b7c-4f55-8a37-1d2a3b4c0001", "0b6f1c1e-8d4e-4a8f-9d55-7c1f0f6a0001"
    actor = f"account:{account}/member:{member}"
    people = {member: {"name": "张东峰"}}
    assert history_view.actor_name(ZH, actor, people, {}, member, account) == "张东峰"
    plain = f"account:{account}"
    assert history_view.actor_name(ZH, plain, {}, {account: "admin-1"}, None, account) == "admin-1"
    assert history_view.actor_name(ZH, plain, {}, {}, None, account) == "账户 0b6f1c1e"
    assert history_view.actor_name(ZH, "service:feedback", {}, {}, None, None) == "service:feedback"
