"""The staff frontend in a real browser (Debian's Chromium through Playwright), on the
embedded app: a representative's contacts, a suggestion climbing the chain to an answer as
three different users, the language switch, the same on a phone, a contact logged with the
keyboard alone, and the staff's pages.

Every page must render with no console error and no request to another host."""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from browser_support import (
    DESKTOP,
    PHONE,
    Admin,
    Server,
    Watch,
    choose_language,
    header_menu,
    shoot,
    watched_page,
)
from web_seed import PASSWORD, Seeded, accounts, seed


def sign_in(page: Any, username: str) -> None:
    """Sign in through the form (the page is in Chinese)."""
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#whoami")).to_be_visible()


def sign_out(page: Any) -> None:
    header_menu(page).get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()


def no_sideways_scroll(page: Any, viewport: dict[str, int]) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], page.url


def seeded_city(server: Server, admin: Admin) -> tuple[Seeded, dict[str, str]]:
    """A fresh small roster and its members' accounts, ready on the contacts side."""
    tag = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=server.base, timeout=15) as client:
        city = seed(client, tag, admin.headers)
        users = accounts(client, city, tag, admin.headers)
        # The contacts service learns the links from the roster's events: wait until it has.
        for _ in range(100):
            links = client.get(
                f"/contacts/members/{city.representative}/links", headers=admin.headers
            )
            if links.status_code == 200 and len(links.json()) == 3:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"the contacts service never saw the links: {links.text}")
    return city, users


def log_contact(page: Any, worker: str, method: str, status: str, label: str) -> None:
    """Two taps from my contacts: open the row's form, choose how."""
    row = page.locator(f"#link-{worker}")
    row.get_by_text("记录联系").click()
    row.get_by_role("button", name=method).click()
    row = page.locator(f"#link-{worker}")
    expect(row.get_by_role("status")).to_have_text("联系已记录。")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", status)
    expect(row.locator("[data-status]")).to_have_text(label)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_link_is_met_after_two_contacts_and_a_suggestion_climbs_to_an_answer(
    browser: Any, server: Server, admin: Admin, artifacts: Path, viewport: dict[str, int]
) -> None:
    city, users = seeded_city(server, admin)
    size = "phone" if viewport is PHONE else "desktop"
    worker = city.workers[0]
    text = f"作为代表，常遇到职工提出的问题答不上来，能否培训职工代表？{uuid.uuid4().hex[:4]}"
    with watched_page(browser, server.base, viewport) as (page, watch):
        # The representative logs two contacts: the link turns from none to behind to met.
        sign_in(page, users["representative"])
        expect(page.get_by_role("heading", name="我的联系")).to_be_visible()
        expect(page.locator(f"#link-{worker} [data-status]")).to_have_text("未联系")
        no_sideways_scroll(page, viewport)
        log_contact(page, worker, "走访", "behind", "未达标")
        log_contact(page, worker, "电话", "met", "已达标")
        page.reload()  # what the page shows is what the services hold
        expect(page.locator(f"#link-{worker} [data-status]")).to_have_attribute(
            "data-status", "met"
        )
        shoot(page, artifacts, f"my-contacts-{size}")

        # A refusal is shown beside its field, and the form keeps what was typed.
        page.get_by_role("link", name="意见建议", exact=True).click()
        page.get_by_label("意见建议内容").fill("   ")
        page.get_by_label("类别").select_option("training")
        page.get_by_role("button", name="提交意见建议").click()
        expect(page.locator("#text-error")).to_have_text("请填写此项。")
        expect(page.get_by_label("类别")).to_have_value("training")
        page.get_by_label("意见建议内容").fill(text)
        page.get_by_role("button", name="提交意见建议").click()
        expect(page.locator("#suggestion-status")).to_have_attribute("data-status", "held")
        expect(page.locator("#holder")).to_contain_text("李卫国")
        suggestion_url = page.url.split("?")[0]
        sign_out(page)

        # The committee member acknowledges it and passes it up.
        sign_in(page, users["committee"])
        page.get_by_role("link", name="意见建议", exact=True).click()
        page.get_by_role("link", name=text[:20]).first.click()
        page.get_by_role("button", name="签收：我已看到").click()
        expect(page.locator("#suggestion-status")).to_have_attribute("data-status", "acknowledged")
        page.get_by_label("为什么向上级上报？").fill("需要市总工会统筹安排培训")
        page.get_by_role("button", name="上报").click()
        expect(page.locator("#holder")).to_contain_text("张永忠")
        sign_out(page)

        # The leadership member answers.
        sign_in(page, users["leader"])
        page.get_by_role("link", name="意见建议", exact=True).click()
        page.get_by_role("link", name=text[:20]).first.click()
        page.get_by_role("button", name="签收：我已看到").click()
        page.get_by_label("答复").fill("市总工会将举办职工代表培训班。")
        page.get_by_role("button", name="发送答复").click()
        expect(page.locator("#suggestion-status")).to_have_attribute("data-status", "answered")
        sign_out(page)

        # The representative reads the answer, closes it, and reads the page in English.
        sign_in(page, users["representative"])
        page.goto(suggestion_url)
        expect(page.locator("#answer")).to_have_text("市总工会将举办职工代表培训班。")
        expect(page.locator(".timeline li")).to_have_count(5)  # raised, ack, up, ack, answer
        page.get_by_role("button", name="确认并办结").click()
        expect(page.locator("#suggestion-status")).to_have_attribute("data-status", "closed")
        no_sideways_scroll(page, viewport)
        shoot(page, artifacts, f"suggestion-{size}")
        choose_language(page, "English")
        expect(page.get_by_role("heading", name="Suggestion", exact=True)).to_be_visible()
        expect(page.locator("#suggestion-status")).to_have_text("Closed")
        page.get_by_role("link", name="My contacts").click()
        expect(page.locator(f"#link-{worker} [data-status]")).to_have_text("Met")
        choose_language(page, "中文")
        expect(page.get_by_role("heading", name="我的联系")).to_be_visible()
        watch.assert_clean()


def tab_to(page: Any, selector: str, presses: int = 80) -> None:
    """Press Tab until the element ``selector`` names has the focus (as a keyboard user
    would reach it); fail if it never does."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
    pytest.fail(f"{selector} is not reachable with the Tab key")


def test_a_contact_is_logged_with_the_keyboard_alone(
    browser: Any, server: Server, admin: Admin
) -> None:
    city, users = seeded_city(server, admin)
    worker = city.workers[1]
    with watched_page(browser, server.base, DESKTOP) as (page, watch):
        sign_in(page, users["representative"])
        tab_to(page, f"#link-{worker} summary")
        page.keyboard.press("Enter")  # opens the row's form
        page.keyboard.press("Tab")  # the note comes first, before the ways of contacting
        assert page.evaluate("document.activeElement.name") == "note"
        page.keyboard.type("电话里谈了培训")
        tab_to(page, f"#link-{worker} fieldset.methods button")  # the first way of contacting
        page.keyboard.press("Enter")
        row = page.locator(f"#link-{worker}")
        expect(row.get_by_role("status")).to_have_text("联系已记录。")
        expect(row.locator("[data-status]")).to_have_attribute("data-status", "behind")
        watch.assert_clean()


def test_a_member_changes_their_password_and_an_admin_disables_an_account(
    browser: Any, server: Server, admin: Admin, artifacts: Path
) -> None:
    city, users = seeded_city(server, admin)
    new_password = f"一个新的长密码-{city.tag}"
    with (
        watched_page(browser, server.base, PHONE) as (page, watch),
        watched_page(browser, server.base, PHONE) as (committee, committee_watch),
    ):
        sign_in(committee, users["committee"])  # a session the disabling will end
        sign_in(page, users["representative"])
        header_menu(page).get_by_role("link", name="密码", exact=True).click()
        expect(page.get_by_role("heading", name="修改密码")).to_be_visible()
        page.get_by_label("当前密码").fill("not my password at all")
        page.locator("#f-password").fill(new_password)
        page.get_by_label("再次输入新密码").fill(new_password + "x")
        page.get_by_role("button", name="修改密码").click()
        expect(page.locator("#again-error")).to_have_text("两次输入的新密码不一致。")
        page.get_by_label("当前密码").fill("not my password at all")
        page.locator("#f-password").fill(new_password)
        page.get_by_label("再次输入新密码").fill(new_password)
        page.get_by_role("button", name="修改密码").click()
        expect(page.locator("#current_password-error")).to_have_text("当前密码不正确。")
        shoot(page, artifacts, "password-phone")
        page.get_by_label("当前密码").fill(PASSWORD)
        page.locator("#f-password").fill(new_password)
        page.get_by_label("再次输入新密码").fill(new_password)
        page.get_by_role("button", name="修改密码").click()
        expect(page.get_by_role("status")).to_have_text("密码已修改，请用新密码登录。")
        page.get_by_label("用户名").fill(users["representative"])
        page.get_by_label("密码").fill(new_password)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", name="我的联系")).to_be_visible()
        sign_out(page)

        # The admin disables the committee member's account, after a confirmation.
        page.goto("/login")
        page.get_by_label("用户名").fill(admin.username)
        page.get_by_label("密码").fill(admin.password)
        page.get_by_role("button", name="登录").click()
        page.goto("/accounts")
        page.get_by_role("link", name=f"停用 {users['committee']}").click()
        expect(page.get_by_role("heading", name=f"停用 {users['committee']}？")).to_be_visible()
        shoot(page, artifacts, "disable-phone")
        page.get_by_role("button", name="停用此账号").click()
        expect(page.get_by_role("status")).to_have_text("账号已停用。")
        row = page.locator(f"#account-{users['committee']}")
        expect(row).to_contain_text("已停用")
        expect(row.get_by_role("link", name=f"停用 {users['committee']}")).to_have_count(0)

        # The committee member's open session ends at their next page.
        committee.reload()
        expect(committee.get_by_text("登录已失效，请重新登录。")).to_be_visible()
        committee.get_by_label("用户名").fill(users["committee"])
        committee.get_by_label("密码").fill(PASSWORD)
        committee.get_by_role("button", name="登录").click()
        expect(committee.locator("#password-error")).to_have_text("用户名或密码错误。")
        watch.assert_clean()
        committee_watch.assert_clean()


def test_staff_see_the_dashboard_tables_roster_accounts_import_and_history(
    browser: Any, server: Server, admin: Admin, artifacts: Path
) -> None:
    city, users = seeded_city(server, admin)
    suggestion = raise_suggestion(server, users["representative"])
    with watched_page(browser, server.base, DESKTOP) as (page, watch):
        page.goto("/login")
        page.get_by_label("用户名").fill(admin.username)
        page.get_by_label("密码").fill("wrong password")
        page.get_by_role("button", name="登录").click()
        expect(page.locator("#password-error")).to_have_text("用户名或密码错误。")
        expect(page.get_by_label("用户名")).to_have_value(admin.username)
        page.get_by_label("密码").fill(admin.password)
        page.get_by_role("button", name="登录").click()

        expect(page.get_by_role("heading", name="总览")).to_be_visible()
        expect(page.locator("svg.chart")).to_be_visible()
        shoot(page, artifacts, "dashboard")
        # Drill down: the city federation, then its enterprise union.
        page.get_by_role("link", name=f"阳泉市总工会{city.tag}").click()
        page.get_by_role("link", name=f"跃进煤业工会{city.tag}").click()
        expect(page.locator(".trail")).to_contain_text(f"跃进煤业工会{city.tag}")
        expect(page.locator("#city-pct")).to_be_visible()
        check_pages(page, watch, artifacts, city)
        csv = page.request.get("/export/compliance.csv")
        assert csv.status == 200
        assert csv.headers["content-type"].startswith("text/csv")
        auditor = open_auditor_account(page, artifacts, city)
        import_dry_run(page, artifacts, city)
        import_workbook(page, artifacts, city)
        # The staff pages at phone size: nothing scrolls sideways.
        page.set_viewport_size(PHONE)
        for path, name in (("/dashboard", "dashboard-phone"), ("/accounts", "accounts-phone")):
            page.goto(path)
            no_sideways_scroll(page, PHONE)
            shoot(page, artifacts, name)
        page.set_viewport_size(DESKTOP)
        sign_out(page)

        # The auditor reads everything and changes nothing.
        sign_in(page, auditor)
        nav = page.get_by_role("navigation")
        expect(nav.get_by_role("link", name="历史记录")).to_be_visible()
        expect(nav.get_by_role("link", name="账号")).to_have_count(0)
        expect(nav.get_by_role("link", name="我的联系")).to_have_count(0)
        page.get_by_role("link", name="名册").click()
        expect(page.get_by_role("link", name="从文件导入")).to_have_count(0)
        page.get_by_label("查找成员").fill("张东峰")
        page.get_by_role("button", name="查找").click()
        page.get_by_role("link", name="张东峰").first.click()
        expect(page.locator("#span")).to_contain_text("联系 3 人")
        expect(page.locator("main form[method=post]")).to_have_count(0)
        assert page.request.get("/accounts").status == 403
        assert page.request.get("/directory/import").status == 403
        page.goto(f"/history?suggestion={suggestion}")
        events = page.locator(".timeline li")
        # Its raise, and the tags its text suggested (SuggestionTagged, in the same append).
        expect(events).to_have_count(2)
        expect(events.locator(".actor")).to_have_text(["张东峰", "张东峰"])
        shoot(page, artifacts, "history-auditor")
        watch.assert_clean()


def raise_suggestion(server: Server, username: str) -> str:
    """A suggestion raised through the feedback API with the member's own token."""
    with httpx.Client(base_url=server.base, timeout=15) as client:
        granted = client.post(
            "/roster/auth/token", data={"username": username, "password": PASSWORD}
        )
        assert granted.status_code == 200, granted.text
        headers = {"Authorization": f"Bearer {granted.json()['access_token']}"}
        body = {"text": "食堂饭菜价格偏高", "category": "wages_and_welfare", "channel": "visit"}
        raised = client.post("/feedback/suggestions", json=body, headers=headers)
        assert raised.status_code in (200, 201), raised.text
        suggestion_id: str = raised.json()["suggestion_id"]
        return suggestion_id


def open_auditor_account(page: Any, artifacts: Path, city: Seeded) -> str:
    """The admin opens an auditor's account; a refused password is shown beside its field."""
    username = f"auditor-{city.tag}"
    page.get_by_role("navigation").get_by_role("link", name="账号").click()
    expect(page.get_by_role("heading", name="账号", exact=True)).to_be_visible()
    page.get_by_label("用户名").fill(username)
    page.get_by_label("角色").select_option("auditor")
    page.get_by_label("密码（系统客户端不设密码）").fill("short")
    page.get_by_role("button", name="开通此账号").click()
    expect(page.locator("#password-error")).to_be_visible()
    expect(page.get_by_label("用户名")).to_have_value(username)
    expect(page.get_by_label("角色")).to_have_value("auditor")
    page.get_by_label("密码（系统客户端不设密码）").fill(PASSWORD)
    page.get_by_role("button", name="开通此账号").click()
    expect(page.get_by_role("status")).to_have_text("账号已开通。")
    expect(page.locator(f"#account-{username}")).to_contain_text("审计员")
    shoot(page, artifacts, "accounts")
    return username


def import_dry_run(page: Any, artifacts: Path, city: Seeded) -> None:
    """A small CSV of units, one row wrong: the dry run reports it and stores nothing."""
    rows = (
        "code,name,kind\n"
        f"JC{city.tag},晋城市总工会{city.tag},city_federation\n"
        f"X{city.tag},错误的单位,village\n"
    )
    page.get_by_role("link", name="名册").click()
    page.get_by_role("link", name="从文件导入").click()
    page.locator("input[type=file][name=file]").set_input_files(
        {"name": "units.csv", "mimeType": "text/csv", "buffer": rows.encode()}
    )
    page.get_by_label("CSV 文件内容").select_option("units")
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_role("heading", name="试导入报告")).to_be_visible()
    expect(page.get_by_text("未保存任何内容。")).to_be_visible()
    problems = page.locator("table.stack tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.first).to_contain_text("kind")
    shoot(page, artifacts, "import-dry-run")


def workbook(units: list[tuple[str, str, str]]) -> bytes:
    """An XLSX workbook with a units sheet of these rows (code, name, kind)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "units"
    sheet.append(["code", "name", "kind", "parent_code"])
    for row in units:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def import_workbook(page: Any, artifacts: Path, city: Seeded) -> None:
    """An XLSX workbook: a dry run reports the wrong row and stores nothing; corrected, the
    import stores it, and the new unit is in the roster."""
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    good = (f"JZ{city.tag}", f"晋中市总工会{city.tag}", "city_federation")
    bad = (f"Y{city.tag}", "错误的单位", "village")
    page.goto("/directory/import")
    page.locator("input[type=file][name=file]").set_input_files(
        {"name": "roster.xlsx", "mimeType": xlsx, "buffer": workbook([good, bad])}
    )
    page.get_by_label("试导入：只检查并报告，不保存").check()
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_text("未保存任何内容。")).to_be_visible()
    problems = page.locator("table.stack tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.first).to_contain_text("units")
    expect(problems.first).to_contain_text("kind")
    page.locator("input[type=file][name=file]").set_input_files(
        {"name": "roster.xlsx", "mimeType": xlsx, "buffer": workbook([good])}
    )
    page.get_by_label("试导入：只检查并报告，不保存").uncheck()
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_text("已保存。", exact=True)).to_be_visible()
    page.get_by_role("link", name="名册").click()
    expect(page.get_by_text(good[1])).to_be_visible()


def check_pages(page: Any, watch: Watch, artifacts: Path, city: Seeded) -> None:
    """Each staff page opens, shows what it should, and is photographed."""
    page.get_by_role("link", name="上报队列").click()
    expect(page.get_by_role("heading", name="上报队列")).to_be_visible()
    shoot(page, artifacts, "queue")
    page.get_by_role("link", name="联系达标", exact=True).click()
    expect(page.get_by_role("heading", name="联系达标")).to_be_visible()
    shoot(page, artifacts, "compliance")
    page.get_by_role("link", name="名册").click()
    page.get_by_label("查找成员").fill("张东峰")
    page.get_by_role("button", name="查找").click()
    page.get_by_role("link", name="张东峰").first.click()
    expect(page.get_by_role("heading", name="张东峰")).to_be_visible()
    expect(page.locator(".chain")).to_contain_text("张永忠")
    expect(page.locator("#span")).to_contain_text("联系 3 人")
    shoot(page, artifacts, "member")
    page.get_by_role("link", name="审计记录").click()
    expect(page.locator(".timeline li").first).to_be_visible()
    shoot(page, artifacts, "history")
    page.goto("/directory/exposure")
    expect(page.get_by_role("heading", name="超额与未结对人员")).to_be_visible()
    assert "/dashboard" in watch.pages_seen
