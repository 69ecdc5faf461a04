"""Federation staff's week in a real browser (Debian's Chromium through Playwright), on the
embedded app with its clock stopped on a set day: the dashboard's counties, the queue's
suggestions, a member's contact cards, exports that hold what the page shows, and the
history of a member.

Every page must render with no console error and no request to another host."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader
from staff_seed import City, seed_city, token

from browser_support import (
    DESKTOP,
    PHONE,
    Admin,
    Server,
    choose_language,
    create_admin,
    serve_embedded,
    shoot,
    watched_page,
)
from web_seed import ok

FIXED_NOW = "2026-11-20T02:00:00+00:00"
TODAY = "2026-11-20"
SUGGESTION = "作为代表，常遇到职工提出的问题答不上来，能否培训职工代表？\n第二行不在队列里显示"
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def staff_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The embedded app on :data:`FIXED_NOW`, holding one city: the dashboard's counties are
    this module's own."""
    data = tmp_path_factory.mktemp("staff")
    with serve_embedded(data, "fixed_clock_app:create_app", FIXED_NOW=FIXED_NOW) as running:
        yield running


@pytest.fixture(scope="module")
def staff_admin(staff_server: Server) -> Admin:
    """The federation's first admin."""
    return create_admin(staff_server, "admin-staff")


@pytest.fixture(scope="module")
def city(staff_server: Server, staff_admin: Admin) -> City:
    """The city with its counties, contacts and one suggestion raised by 张东峰."""
    with httpx.Client(base_url=staff_server.base, timeout=20) as client:
        made = seed_city(client, staff_admin.headers)
        body = {"text": SUGGESTION, "category": "training", "channel": "online"}
        headers = token(client, made.accounts["张东峰"])
        ok(client, "POST", "/feedback/suggestions", headers=headers, json=body)
        for _ in range(150):
            queue = client.get("/reports/escalation-queue", headers=staff_admin.headers)
            if queue.status_code == 200 and queue.json()["count"] == 1:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the reports service never queued the suggestion")
    return made


def sign_in_admin(page: Any, admin: Admin) -> None:
    """Sign in through the form as the admin."""
    page.goto("/login")
    page.get_by_label("用户名").fill(admin.username)
    page.get_by_label("密码").fill(admin.password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#whoami")).to_be_visible()


def no_sideways_scroll(page: Any, viewport: dict[str, int]) -> None:
    """Nothing on the page is wider than the window."""
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], page.url


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_dashboard_starts_at_the_counties_and_staff_open_the_queue_and_a_contact_card(
    browser: Any,
    staff_server: Server,
    staff_admin: Admin,
    city: City,
    artifacts: Path,
    viewport: dict[str, int],
) -> None:
    size = "phone" if viewport is PHONE else "desktop"
    with watched_page(browser, staff_server.base, viewport) as (page, watch):
        sign_in_admin(page, staff_admin)
        page.goto("/dashboard")
        # The counties, the worst first, with the city as the table's total.
        rows = page.locator("#unit-rows tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("平定县总工会")
        expect(rows.nth(0)).to_contain_text("0.0%")
        expect(rows.nth(1)).to_contain_text("盂县总工会")
        expect(rows.nth(1)).to_contain_text("50.0%")
        expect(page.locator("#unit-total")).to_contain_text("阳泉市总工会")
        expect(page.locator("#unit-total")).to_contain_text("9")
        no_sideways_scroll(page, viewport)
        shoot(page, artifacts, f"staff-dashboard-{size}")

        # The queue shows what the suggestion says (its first line), not just its category.
        page.goto("/queue")
        first_line = SUGGESTION.splitlines()[0]
        expect(page.get_by_role("link", name=first_line)).to_be_visible()
        expect(page.get_by_text("第二行不在队列里显示")).to_have_count(0)
        no_sideways_scroll(page, viewport)

        # A member's contact cards open for staff.
        page.goto(f"/directory/members/{city.members['张东峰']}")
        page.get_by_role("row", name="王芳").get_by_role("link", name="联系卡").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("王芳")
        expect(page.locator("tbody tr")).to_have_count(2)
        no_sideways_scroll(page, viewport)
        shoot(page, artifacts, f"staff-card-{size}")
    watch.assert_clean()


def page_names(page: Any) -> list[tuple[str, str]]:
    """The (upper, lower) names of the compliance table's rows."""
    rows = page.locator("table.stack tbody tr")
    return [
        (
            row.locator("td").nth(0).inner_text().strip(),
            row.locator("td").nth(1).inner_text().strip(),
        )
        for row in rows.all()
    ]


def test_the_county_export_with_a_status_filter_holds_exactly_the_rows_the_page_shows(
    browser: Any, staff_server: Server, staff_admin: Admin, city: City, tmp_path: Path
) -> None:
    with watched_page(browser, staff_server.base, DESKTOP, accept_downloads=True) as (page, watch):
        sign_in_admin(page, staff_admin)
        page.goto("/compliance")
        page.locator("#c-unit").select_option(label="\u00a0\u00a0平定县总工会")
        page.locator("#c-status").select_option("none")
        page.get_by_role("button", name="筛选").click()
        expect(page.locator("table.stack tbody tr")).to_have_count(5)
        shown = sorted(page_names(page))
        assert ("陈红", "刘敏") in shown

        with page.expect_download() as started:
            page.get_by_role("link", name="导出 XLSX").click()
        download = started.value
        assert download.suggested_filename == f"联系达标-平定县总工会-未联系-{TODAY}.xlsx"
        saved = tmp_path / "export.xlsx"
        download.save_as(saved)
        sheet = load_workbook(saved).active
        assert sheet is not None
        table = [list(row) for row in sheet.iter_rows(values_only=True)]
        header, rows = table[0], table[1:]
        assert header[:5] == [
            "上级联系人",
            "上级联系人层级",
            "上级联系人单位",
            "上级联系人电话",
            "联系对象",
        ]
        col = {name: i for i, name in enumerate(header)}
        assert sorted((r[col["上级联系人"]], r[col["联系对象"]]) for r in rows) == shown
        assert {r[col["状态"]] for r in rows} == {"未联系"}
        by_lower = {r[col["联系对象"]]: r for r in rows}
        assert by_lower["刘敏"][col["联系对象电话"]] == city.phones["刘敏"]
        assert by_lower["刘敏"][col["单位"]] == "平定电厂工会"
        assert by_lower["刘敏"][col["上级联系人层级"]] == "工会代表"
        assert by_lower["刘敏"][col["联系对象系统编号"]] == city.members["刘敏"]
        linked = by_lower["刘敏"][col["结对日期"]]
        assert isinstance(linked, datetime)  # a date, not text
        assert linked.date().isoformat() == "2025-12-01"

        # In English, the same rows with English headers, as CSV.
        choose_language(page, "English")
        expect(page.get_by_role("heading", level=1)).to_have_text("Compliance")
        with page.expect_download() as started:
            page.get_by_role("link", name="Export CSV").click()
        download = started.value
        assert download.suggested_filename == f"Compliance-平定县总工会-Not contacted-{TODAY}.csv"
        saved = tmp_path / "export.csv"
        download.save_as(saved)
        lines = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
        assert lines[0][:2] == ["Upper member", "Tier of the upper member"]
        assert len(lines) == 6
        assert {line[8] for line in lines[1:]} == {"Not contacted"}
    watch.assert_clean()


def test_an_export_names_itself_in_rfc_6266_and_keeps_every_filter(
    browser: Any, staff_server: Server, staff_admin: Admin, city: City
) -> None:
    with watched_page(browser, staff_server.base, DESKTOP) as (page, watch):
        sign_in_admin(page, staff_admin)
        exported = page.request.get(
            "/export/compliance.csv",
            params={"tier": "committee", "unit_id": city.units["盂县总工会"]},
        )
        assert exported.status == 200, exported.text()
        disposition = exported.headers["content-disposition"]
        assert "filename*=UTF-8''" in disposition
        assert f'filename="compliance-{TODAY}.csv"' in disposition
        lines = exported.body().decode("utf-8-sig").splitlines()
        # 王建平 -> 张东峰 is the one link of a committee member in 盂县.
        assert len(lines) == 2
        assert "王建平" in lines[1]
        assert "张东峰" in lines[1]
        queue = page.request.get("/export/queue.xlsx", params={"level": "0"})
        assert queue.status == 200
        sheet = load_workbook(io.BytesIO(queue.body())).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][0] == "意见建议"
        assert len(rows) == 2
        assert rows[1][0] == SUGGESTION.splitlines()[0]
        assert rows[1][3] == "王建平"  # the representative's upper member holds it
        none = page.request.get("/export/queue.csv", params={"level": "2"})
        assert none.body().decode("utf-8-sig").count("\n") == 1  # the header alone
    watch.assert_clean()


def test_history_names_the_actor_in_chinese_without_overflow(
    browser: Any, staff_server: Server, staff_admin: Admin, city: City
) -> None:
    with watched_page(browser, staff_server.base, LAPTOP) as (page, watch):
        sign_in_admin(page, staff_admin)
        page.goto(f"/history?kind=member&id={city.members['张东峰']}")
        events = page.locator("ol.timeline > li")
        expect(events.first).to_be_visible()
        registered = events.filter(has=page.locator(".event-name", has_text="登记成员"))
        expect(registered).to_have_count(1)
        expect(registered.locator(".actor")).to_have_text("admin-staff")
        contacts = events.filter(has=page.locator(".event-name", has_text="记录联系"))
        expect(contacts.first.locator(".actor")).to_have_text("王建平")  # a member by name
        expect(page.locator("ol.timeline")).not_to_contain_text("account:")
        expect(registered.locator("dl")).to_contain_text("张东峰")
        expect(registered.locator("dl")).to_contain_text("跃进煤业工会")
        expect(registered.locator("dl")).to_contain_text("2025年11月1日")
        expect(registered.locator("time")).to_have_text("2026年11月20日 10:00")  # UTC+8
        page.locator("ol.timeline details").first.locator("summary").click()
        no_sideways_scroll(page, LAPTOP)
        choose_language(page, "English")
        registered = events.filter(has=page.locator(".event-name", has_text="Member registered"))
        expect(registered).to_have_count(1)
        expect(registered.locator("dl")).to_contain_text("1 Nov 2025")
    watch.assert_clean()


def upload(page: Any, path: Path, kind: str, dry_run: bool) -> None:
    """Choose a file on the import page and send it."""
    page.goto("/directory/import")
    page.locator("#i-file").set_input_files(str(path))
    page.locator("#i-kind").select_option(kind)
    box = page.locator("input[name=dry_run]")
    if box.is_checked() != dry_run:
        box.click()
    page.get_by_role("button", name="上传").click()
    expect(page.locator("#report-title")).to_be_visible()


def test_a_gbk_csv_and_the_filled_in_template_import_and_a_bad_real_import_shows_its_report(
    browser: Any,
    staff_server: Server,
    staff_admin: Admin,
    city: City,
    tmp_path: Path,
    artifacts: Path,
) -> None:
    with httpx.Client(base_url=staff_server.base, timeout=20) as client:
        body = {
            "code": "PD-NZG",
            "name": "娘子关电厂工会",
            "kind": "enterprise_union",
            "parent_unit_id": city.units["平定县总工会"],
        }
        ok(client, "POST", "/roster/units", headers=staff_admin.headers, json=body)
    with watched_page(browser, staff_server.base, DESKTOP, accept_downloads=True) as (page, watch):
        sign_in_admin(page, staff_admin)
        page.goto("/directory/import")
        with page.expect_download() as started:
            page.locator("#import-template").click()
        download = started.value
        assert download.suggested_filename == "名册导入模板.xlsx"
        template = tmp_path / "template.xlsx"
        download.save_as(template)
        book = load_workbook(template)
        assert book.sheetnames == ["说明", "单位", "成员", "结对", "现有单位"]
        existing = [list(r) for r in book["现有单位"].iter_rows(values_only=True)]
        assert ["PD-NZG", "娘子关电厂工会", "企业工会", "平定县总工会"] in existing
        explained = {r[1]: r[3] for r in book["说明"].iter_rows(min_row=2, values_only=True)}
        assert "市总工会班子成员" in str(explained["层级"])
        header = [c.value for c in book["成员"][1]]
        assert header[:4] == ["单位代码", "编号", "层级", "姓名"]
        book["成员"].append(["PD-NZG", "NZG-001", "工会代表", "郭靖", "13911110001"])
        book["成员"].append(["PD-NZG", "NZG-002", "职工", "黄蓉"])
        book["结对"].append(["PD-NZG", "NZG-001", "PD-NZG", "NZG-002"])
        book.save(template)

        # The filled-in template, for real: stored.
        upload(page, template, "", dry_run=False)
        expect(page.locator("#import-outcome")).to_have_text("已保存。")

        # A CSV file as Chinese Excel saves it (GBK): the encoding is detected and shown.
        rows = ["单位代码,编号,层级,姓名", "PD-NZG,NZG-003,职工,郭襄"]
        gbk = tmp_path / "members.csv"
        gbk.write_bytes(("\r\n".join(rows) + "\r\n").encode("gbk"))
        upload(page, gbk, "members", dry_run=True)
        expect(page.locator("#import-encoding")).to_have_attribute("data-encoding", "GBK")
        expect(page.locator("#import-encoding")).to_contain_text("检测到的编码")
        upload(page, gbk, "members", dry_run=False)
        expect(page.locator("#import-outcome")).to_have_text("已保存。")

        # A file with problems, imported for real: the same report as the dry run, in Chinese.
        bad = tmp_path / "bad.csv"
        lines = ["单位代码,编号,层级,姓名", "PD-NZG,NZG-004,主席,杨过", "NOPE,NZG-005,职工,小龙女"]
        bad.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
        upload(page, bad, "members", dry_run=True)
        dry = page.locator("#import-problems tbody").inner_text()
        upload(page, bad, "members", dry_run=False)
        expect(page.locator("#import-outcome")).to_contain_text("未保存任何内容")
        assert page.locator("#import-problems tbody").inner_text() == dry
        problems = page.locator("#import-problems tbody tr")
        expect(problems).to_have_count(2)
        expect(problems.nth(0)).to_contain_text("成员表")
        expect(problems.nth(0)).to_contain_text("层级")
        expect(problems.nth(1)).to_contain_text("文件和名册中都没有这个代码的工会组织。")
        shoot(page, artifacts, "staff-import-refused")

        # A member registered on the page in a unit with a code is the one a file names so.
        page.goto("/directory/members/new")
        page.get_by_label("单位").select_option(
            label="\u00a0\u00a0\u00a0\u00a0娘子关电厂工会 (PD-NZG)"
        )
        page.get_by_label("层级").select_option("worker")
        page.get_by_label("姓名").fill("程英")
        page.get_by_label("编号").fill("NZG-009")
        page.get_by_role("button", name="登记该成员").click()
        expect(page.get_by_role("status")).to_have_text("成员已登记。")
        same = tmp_path / "same.csv"
        same.write_bytes("单位代码,编号,层级,姓名\r\nPD-NZG,nzg-009,职工,程英\r\n".encode("gbk"))
        upload(page, same, "members", dry_run=True)
        expect(page.locator("#import-problems")).to_have_count(0)
        expect(page.locator("#counts-members")).to_have_attribute("data-skipped", "1")
        expect(page.locator("#counts-members")).to_have_attribute("data-created", "0")
    with httpx.Client(base_url=staff_server.base, timeout=20) as client:
        found = client.get("/roster/members", params={"q": "郭"}, headers=staff_admin.headers)
        assert sorted(m["name"] for m in found.json()["data"]) == ["郭襄", "郭靖"]
        assert (
            client.get("/roster/members", params={"q": "杨过"}, headers=staff_admin.headers).json()[
                "count"
            ]
            == 0
        )
    watch.assert_clean()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_member_is_registered_edited_moved_and_departed_in_the_browser(
    browser: Any,
    staff_server: Server,
    staff_admin: Admin,
    city: City,
    artifacts: Path,
    viewport: dict[str, int],
) -> None:
    size = "phone" if viewport is PHONE else "desktop"
    number = f"GX-{size}"
    with watched_page(browser, staff_server.base, viewport) as (page, watch):
        sign_in_admin(page, staff_admin)
        page.goto("/directory")
        page.get_by_role("link", name="登记成员").click()
        expect(page.get_by_role("heading", name="登记成员")).to_be_visible()
        shoot(page, artifacts, f"staff-member-new-{size}")
        page.get_by_label("单位").select_option(label="\u00a0\u00a0\u00a0\u00a0平定电厂工会")
        page.get_by_label("层级").select_option("worker")
        page.get_by_label("姓名").fill("郭小川")
        page.get_by_label("编号").fill(number)
        page.get_by_label("电话").fill("电话号码")
        page.get_by_role("button", name="登记该成员").click()
        # The refusal is beside its field; what was typed stays.
        expect(page.locator("#phone-error")).to_be_visible()
        expect(page.get_by_label("姓名")).to_have_value("郭小川")
        no_sideways_scroll(page, viewport)
        page.get_by_label("电话").fill("13900001111")
        page.get_by_role("button", name="登记该成员").click()
        expect(page.get_by_role("status")).to_have_text("成员已登记。")
        expect(page.get_by_role("heading", level=1)).to_have_text("郭小川")
        expect(page.locator(".lead")).to_contain_text("平定电厂工会")
        member_url = page.url.split("?")[0]

        # Edit details.
        page.locator("#upkeep-details summary").click()
        page.locator("#d-name").fill("郭小川（更正）")
        page.locator("#d-phone").fill("13900002222")
        page.get_by_role("button", name="保存信息").click()
        expect(page.get_by_role("status")).to_have_text("信息已保存。")
        expect(page.get_by_role("heading", level=1)).to_have_text("郭小川（更正）")
        expect(page.locator(".lead")).to_contain_text("13900002222")

        # Move to another unit: a date in the future is refused beside its field.
        page.locator("#upkeep-move summary").click()
        page.locator("#m-unit").select_option(label="\u00a0\u00a0\u00a0\u00a0跃进煤业工会")
        page.locator("#m-on").fill("2027-01-05")
        page.get_by_role("button", name="调动成员").click()
        expect(page.locator("#upkeep-move #moved_on-error")).to_be_visible()
        expect(page.locator("#m-unit")).to_have_value(city.units["跃进煤业工会"])
        page.locator("#m-on").fill("2026-11-02")
        page.get_by_role("button", name="调动成员").click()
        expect(page.get_by_role("status")).to_have_text("已调往其他单位。")
        expect(page.locator(".lead")).to_contain_text("跃进煤业工会")
        no_sideways_scroll(page, viewport)
        shoot(page, artifacts, f"staff-member-upkeep-{size}")

        # Record the departure.
        page.locator("#upkeep-departure summary").click()
        page.locator("#p-on").fill("2026-11-10")
        page.locator("#p-reason").fill("调离本市")
        page.get_by_role("button", name="记录离开").click()
        expect(page.get_by_role("status")).to_have_text("已记录离开。")
        expect(page.locator("#member-status")).to_have_attribute("data-status", "departed")
        expect(page.locator("#upkeep-title")).to_have_count(0)

        # Forgetting asks first and says what it destroys.
        page.locator("#forget-link").click()
        expect(page.locator("#forget-warning")).to_contain_text("姓名、电话、微信号和编号")
        expect(page.locator("#forget-warning")).to_contain_text("无法撤销")
        shoot(page, artifacts, f"staff-forget-{size}")
        page.get_by_role("link", name="取消").click()
        assert page.url.split("?")[0] == member_url
        page.locator("#forget-link").click()
        page.get_by_role("button", name="永久删除该成员的个人信息").click()
        expect(page.get_by_role("status")).to_have_text("该成员的个人信息已删除。")
        expect(page.locator("#member-status")).to_have_attribute("data-status", "forgotten")
    watch.assert_clean()


def test_units_are_registered_with_codes_renamed_and_closed_in_the_browser(
    browser: Any, staff_server: Server, staff_admin: Admin, city: City, artifacts: Path
) -> None:
    with watched_page(browser, staff_server.base, DESKTOP) as (page, watch):
        sign_in_admin(page, staff_admin)
        page.goto("/directory")
        page.get_by_role("link", name="工会组织与代码").click()
        form = page.locator("#unit-new")
        form.get_by_label("名称").fill("盂县电厂工会")
        form.get_by_label("类型").select_option("enterprise_union")
        form.get_by_label("上级工会组织").select_option(city.units["盂县总工会"])
        form.get_by_label("代码").fill("YX-DC")
        page.get_by_role("button", name="登记该组织").click()
        expect(page.get_by_role("status")).to_have_text("工会组织已登记。")
        row = page.locator("#unit-table tr[data-code='YX-DC']")
        expect(row).to_contain_text("盂县电厂工会")
        shoot(page, artifacts, "staff-units")
        # The same code again: refused beside the code field.
        form = page.locator("#unit-new")
        form.get_by_label("名称").fill("另一个电厂工会")
        form.get_by_label("类型").select_option("enterprise_union")
        form.get_by_label("上级工会组织").select_option(city.units["盂县总工会"])
        form.get_by_label("代码").fill("YX-DC")
        page.get_by_role("button", name="登记该组织").click()
        expect(page.locator("#code-error")).to_have_text("已有工会组织使用此代码。")
        expect(page.locator("#un-name")).to_have_value("另一个电厂工会")

        row = page.locator("#unit-table tr[data-code='YX-DC']")
        row.locator("summary").click()
        row.get_by_label("新名称").fill("盂县发电厂工会")
        row.get_by_role("button", name="更名").click()
        expect(page.get_by_role("status")).to_have_text("已更名。")
        row = page.locator("#unit-table tr[data-code='YX-DC']")
        expect(row).to_contain_text("盂县发电厂工会")
        row.locator("summary").click()
        row.get_by_label("撤销原因").fill("企业改制")
        row.get_by_role("button", name="撤销该组织").click()
        expect(page.get_by_role("status")).to_have_text("已撤销。")
        expect(page.locator("#unit-table tr[data-code='YX-DC']")).to_contain_text("已撤销")
        page.goto("/directory")
        expect(page.locator("code.unit-code", has_text="YX-DC")).to_be_visible()
    watch.assert_clean()


A4 = (595.28, 841.89)
"""An A4 page in PDF points."""


def pdf_text(answer: Any) -> str:
    """The text of a PDF answer, after checking it is a PDF whose every page is A4."""
    assert answer.status == 200, answer.text()
    assert answer.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.body()))
    assert len(reader.pages) >= 1
    for page in reader.pages:
        size = (float(page.mediabox.width), float(page.mediabox.height))
        assert size == pytest.approx(A4, abs=0.5), size
    return "\n".join(page.extract_text() for page in reader.pages)


def test_papers_print_as_a4_pdfs_with_the_names_and_figures_they_should_hold(
    browser: Any,
    staff_server: Server,
    staff_admin: Admin,
    city: City,
    tmp_path: Path,
    artifacts: Path,
) -> None:
    with watched_page(browser, staff_server.base, DESKTOP, accept_downloads=True) as (page, watch):
        sign_in_admin(page, staff_admin)

        # 联系卡: the people 陈红 contacts, with unit and phone, the rule, blank rows.
        page.goto(f"/directory/members/{city.members['陈红']}")
        href = page.locator("#card-pdf").get_attribute("href")
        card = pdf_text(page.request.get(href))
        assert "联系卡：陈红" in card
        for name in ("刘敏", "孙丽", "周杰"):
            assert name in card
            assert city.phones[name] in card
        assert "平定电厂工会" in card
        assert "每年应至少联系 2 次" in card.replace("\n", "")  # the rule, with its minimum
        # 张东峰's card lists the contacts made this period.
        answer = page.request.get(f"/papers/contact-card/{city.members['张东峰']}.pdf")
        made = pdf_text(answer)
        assert "2026年4月2日" in made
        assert "2026年9月15日" in made
        assert quote("联系卡-张东峰-2026-11-20.pdf") in answer.headers["content-disposition"]

        # 工作手册: the federation edits it, it prints with the member's own links.
        page.get_by_role("link", name="工作手册", exact=True).click()
        page.get_by_label("正文（Markdown 格式：# 为标题，- 为列表）").fill(
            "# 联系职工群众工作手册\n\n## 联系频次\n\n"
            "每年同每名联系人至少联系两次。\n\n- 座谈\n- 走访"
        )
        page.get_by_label("修改说明").fill("首版")
        page.get_by_role("button", name="发布").click()
        expect(page.get_by_role("status")).to_have_text("工作手册新版本已发布。")
        expect(page.locator("#handbook-text h3")).to_have_text("联系频次")
        shoot(page, artifacts, "staff-handbook")
        page.goto(f"/directory/members/{city.members['陈红']}")
        handbook = pdf_text(page.request.get(page.locator("#handbook-pdf").get_attribute("href")))
        assert "每年同每名联系人至少联系两次" in handbook
        assert "第 1 版" in handbook
        assert "我的联系人" in handbook
        assert "刘敏" in handbook

        # 通报: compliance at the month's end, counties and enterprise unions ranked. The
        # module's other tests may add links: the city's figures are the reports service's.
        with httpx.Client(base_url=staff_server.base, timeout=20) as client:
            report = client.get(
                "/reports/compliance", params={"period": "2026"}, headers=staff_admin.headers
            ).json()
        total = report["city"]
        tally = {g["key"]: g["tally"] for g in report["by_unit"]}
        yx, pd = tally[city.units["盂县总工会"]], tally[city.units["平定县总工会"]]
        page.goto("/dashboard")
        bulletin = pdf_text(page.request.get(page.locator("#bulletin-pdf").get_attribute("href")))
        assert "2026-11" in bulletin
        assert f"{total['compliance_pct']:.1f}%" in bulletin
        assert total["met"] == 2  # 王建平 -> 张东峰 and 张东峰 -> 王芳
        assert bulletin.index("盂县总工会") < bulletin.index("平定县总工会")  # ranked
        assert "50.0%" in bulletin
        assert "66.7%" in bulletin  # 跃进煤业工会: 2 of 3
        assert "最落后的成员" in bulletin
        assert bulletin.index("陈红") < bulletin.index("张东峰")  # 6 contacts owed before 1
        with page.expect_download() as started:
            page.locator("#bulletin-xlsx").click()
        download = started.value
        assert download.suggested_filename == "月度通报-2026-11.xlsx"
        saved = tmp_path / "bulletin.xlsx"
        download.save_as(saved)
        book = load_workbook(saved)
        counties = [list(r) for r in book["县（区）排名"].iter_rows(values_only=True)]
        assert counties[0][:2] == ["名次", "单位"]
        assert counties[1][:3] == [1, "盂县总工会", yx["links"]]
        assert counties[2][:3] == [2, "平定县总工会", pd["links"]]
        assert (yx["compliance_pct"], pd["compliance_pct"]) == (50.0, 0.0)
        summary = [list(r) for r in book["概况"].iter_rows(values_only=True)]
        levels = [list(r) for r in book["意见建议（按上报次数）"].iter_rows(values_only=True)]
        assert levels[0] == ["上报次数", "已提出", "已答复", "已办理", "未办结", "已超期"]
        assert levels[1:] == [[0, 1, 0, 0, 1, 0]]  # 张东峰's, held by 王建平, not yet late
        assert "上报 0 次" in bulletin
        figures = [total[k] for k in ("links", "met", "behind", "none", "compliance_pct")]
        assert summary[1][:6] == ["2026-11", *figures]
    watch.assert_clean()


def test_pages_print_without_navigation_or_forms(
    browser: Any, staff_server: Server, staff_admin: Admin, city: City
) -> None:
    with watched_page(browser, staff_server.base, DESKTOP) as (page, watch):
        sign_in_admin(page, staff_admin)
        for path in (
            "/dashboard",
            "/compliance",
            f"/directory/members/{city.members['陈红']}",
            "/queue",
        ):
            page.goto(path)
            page.emulate_media(media="print")
            assert page.locator("header.top").is_hidden(), path
            visible_forms = page.evaluate(
                "[...document.querySelectorAll('form, button')]"
                ".filter(e => e.offsetParent !== null).length"
            )
            assert visible_forms == 0, path
            expect(page.locator("h1")).to_be_visible()
            page.emulate_media(media="screen")
    watch.assert_clean()


def test_the_unlinked_export_holds_the_members_the_filtered_page_shows(
    browser: Any, staff_server: Server, staff_admin: Admin, city: City, tmp_path: Path
) -> None:
    with httpx.Client(base_url=staff_server.base, timeout=20) as client:
        body = {
            "unit_id": city.units["盂县总工会"],
            "tier": "representative",
            "name": "孤代表",
            "phone": "13955550000",
            "external_number": "YX-LONE",
        }
        ok(client, "POST", "/roster/members", headers=staff_admin.headers, json=body)
    with watched_page(browser, staff_server.base, DESKTOP, accept_downloads=True) as (page, watch):
        sign_in_admin(page, staff_admin)
        page.goto("/directory/exposure")
        page.locator("#x-tier").select_option("representative")
        page.get_by_role("button", name="筛选").click()
        table = page.locator("table.stack").nth(1)
        shown = sorted(
            t.strip() for t in table.locator("tbody tr td:first-child").all_inner_texts()
        )
        assert "孤代表" in shown
        with page.expect_download() as started:
            page.get_by_role("link", name="导出 XLSX").click()
        download = started.value
        assert download.suggested_filename == f"未结对-工会代表-{TODAY}.xlsx"
        saved = tmp_path / "unlinked.xlsx"
        download.save_as(saved)
        sheet = load_workbook(saved).active
        assert sheet is not None
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert rows[0][:4] == ["姓名", "层级", "单位", "电话"]
        assert sorted(str(r[0]) for r in rows[1:]) == shown
        lone = next(r for r in rows if r[0] == "孤代表")
        assert lone[1:4] == ["工会代表", "盂县总工会", "13955550000"]
    watch.assert_clean()


def test_the_staff_pages_fit_a_phone(
    browser: Any, staff_server: Server, staff_admin: Admin, city: City
) -> None:
    with watched_page(browser, staff_server.base, PHONE, has_touch=True, is_mobile=True) as (
        page,
        watch,
    ):
        sign_in_admin(page, staff_admin)
        for path in (
            "/directory/units",
            "/directory/members/new",
            "/directory/import",
            "/handbook",
            "/directory/exposure",
            f"/history?kind=member&id={city.members['张东峰']}",
        ):
            page.goto(path)
            expect(page.locator("h1")).to_be_visible()
            wide = page.evaluate(
                "[...document.querySelectorAll('body *')]"
                ".filter(e => e.getBoundingClientRect().right > 361)"
                ".map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)"
            )
            assert wide == [], (path, wide)
            no_sideways_scroll(page, PHONE)
    watch.assert_clean()
