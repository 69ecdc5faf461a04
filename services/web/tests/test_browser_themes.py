"""Themes in a real browser at 360 px: a worker ticks a tag on the intake page (JavaScript
off), another's text suggests one, the representative sets the tags again on the suggestion's
page; staff follow the dashboard to the themes page, read a suggestion of a theme and download
the XLSX and CSV with Chinese headers.

Every page must render with no console error and no request to another host."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from playwright.sync_api import expect
from test_browser_flows import no_sideways_scroll, seeded_city, sign_in
from test_browser_glance import SMALL_TARGETS
from test_browser_voice import issue_link

from browser_support import PHONE, Admin, Server, shoot, watched_page


def send(worker: Any, url: str, text: str, category: str, tag: str | None) -> None:
    """As a worker by the link: the suggestion, with a tag ticked or none."""
    worker.goto(url)
    worker.get_by_label("您的意见建议").fill(text)
    worker.get_by_label("类别").select_option(category)
    if tag:
        worker.get_by_label(tag).check()
    worker.get_by_label("匿名提交（不保存姓名和电话）").check()
    worker.get_by_role("button", name="提交").click()
    expect(worker.get_by_role("heading", name="已收到")).to_be_visible()


def test_tags_chosen_and_suggested_reach_the_themes_page_and_its_downloads(
    browser: Any, server: Server, admin: Admin, artifacts: Path, tmp_path: Path
) -> None:
    city, users = seeded_city(server, admin)
    mark = uuid.uuid4().hex[:4]
    canteen = f"食堂饭菜太贵，希望平价窗口。{mark}"
    mine = f"井下通风差，班组希望改善。{mark}"
    with (
        watched_page(browser, server.base, PHONE, has_touch=True, is_mobile=True) as (rep, seen),
        watched_page(
            browser, server.base, PHONE, has_touch=True, is_mobile=True, java_script_enabled=False
        ) as (worker, watch),
    ):
        sign_in(rep, users["representative"])
        url = issue_link(rep)
        worker.goto(url)
        expect(worker.locator("#tag-choices")).to_be_visible()
        no_sideways_scroll(worker, PHONE)
        worker.screenshot(path=str(artifacts / "themes-intake-tags-nojs.png"), full_page=True)
        send(worker, url, canteen, "wages_and_welfare", "食堂餐饮")
        send(worker, url, mine, "safety", None)  # its words suggest 作业安全

        rep.get_by_role("link", name="意见建议", exact=True).click()
        rep.get_by_role("link", name=mine[:20]).first.click()
        expect(rep.locator("#suggestion-tags [data-tag=workplace_safety]")).to_have_text("作业安全")
        rep.locator("#tags-form").get_by_label("职业健康").check()
        rep.get_by_role("button", name="保存标签").click()
        expect(rep.get_by_text("标签已保存。")).to_be_visible()
        expect(rep.locator("#suggestion-tags [data-tag=occupational_health]")).to_be_visible()
        shoot(rep, artifacts, "themes-retag-phone")
        assert rep.evaluate(SMALL_TARGETS) == [], rep.url
        watch.assert_clean()
        seen.assert_clean()

    with watched_page(browser, server.base, PHONE, has_touch=True, is_mobile=True) as (
        staff,
        watch,
    ):
        staff.goto("/login")
        staff.get_by_label("用户名").fill(admin.username)
        staff.get_by_label("密码").fill(admin.password)
        staff.get_by_role("button", name="登录").click()
        expect(staff.locator("#whoami")).to_be_visible()
        staff.goto("/dashboard")
        expect(staff.locator("#top-tags [data-tag=canteen]")).to_be_visible()
        staff.get_by_role("link", name="全部主题（分单位，含与上期对比）").click()
        expect(staff.get_by_role("heading", name="反映主题")).to_be_visible()
        canteen_row = staff.locator("#city-tags tr[data-theme='tag:canteen']")
        expect(canteen_row.locator("td").nth(0)).to_have_text("食堂餐饮")
        count = int(canteen_row.locator("td").nth(1).inner_text())
        assert count >= 1
        expect(
            staff.locator("#unit-themes tr[data-theme='tag:occupational_health']")
        ).to_have_count(1)
        no_sideways_scroll(staff, PHONE)
        shoot(staff, artifacts, "themes-page-phone")
        assert staff.evaluate(SMALL_TARGETS) == [], staff.url

        with staff.expect_download() as started:
            staff.get_by_role("link", name="下载（XLSX）").click()
        download = started.value
        assert download.suggested_filename.startswith("反映主题-")
        saved = tmp_path / "themes.xlsx"
        download.save_as(saved)
        sheet = load_workbook(saved).active
        assert sheet is not None
        table = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert table[0] == ["单位", "类型", "主题", "本期", "上期", "增减"]
        assert ["全市", "标签", "食堂餐饮", count, 0, count] in table

        with staff.expect_download() as started:
            staff.get_by_role("link", name="下载（CSV）").click()
        saved = tmp_path / "themes.csv"
        started.value.save_as(saved)
        lines = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
        assert lines[0] == ["单位", "类型", "主题", "本期", "上期", "增减"]

        # A theme's suggestion opens where staff read it.
        canteen_row.locator("a.example").first.click()
        expect(staff.get_by_role("heading", name="意见建议")).to_be_visible()
        expect(staff.locator("#suggestion-tags [data-tag=canteen]")).to_be_visible()
        watch.assert_clean()
    assert city.unit
