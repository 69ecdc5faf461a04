"""Workers' voice in a real browser at 360 px: an anonymous worker scans a representative's
QR code, sends a suggestion with JavaScript off, keeps the receipt's follow-up code, sees the
answer and rates it; the rating shows in the representative's record and the unit's report.
A revoked or forged link gets a plain Chinese page. A representative raising for a worker
answers it at once or passes it up at once, and the page says which.

Every page must render with no console error and no request to another host."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from test_browser_flows import no_sideways_scroll, seeded_city, sign_in, sign_out
from test_browser_glance import SMALL_TARGETS

from browser_support import PHONE, Admin, Server, shoot, watched_page


def issue_link(page: Any) -> str:
    """As the signed-in representative: issue the QR code; the address it carries."""
    page.get_by_role("link", name="意见建议", exact=True).click()
    page.get_by_role("link", name="我的二维码").click()
    page.get_by_role("button", name="生成我的二维码").click()
    expect(page.locator("#intake-qr")).to_be_visible()
    url: str = page.locator("#intake-url").get_attribute("href")
    return url


def look(page: Any, artifacts: Path, name: str, javascript: bool) -> None:
    """A screenshot; with JavaScript on, after the checks of :func:`shoot` (axe-core runs in
    the page, which a page without JavaScript cannot)."""
    if javascript:
        shoot(page, artifacts, name)
        assert page.evaluate(SMALL_TARGETS) == [], page.url  # 44 px tap targets
    else:
        assert page.locator("h1").count() == 1, page.url
        page.screenshot(path=str(artifacts / f"{name}-nojs.png"), full_page=True)


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_an_anonymous_worker_raises_follows_and_rates_it(
    browser: Any, server: Server, admin: Admin, artifacts: Path, javascript: bool
) -> None:
    city, users = seeded_city(server, admin)
    text = f"井下更衣室热水经常没有，希望解决。{uuid.uuid4().hex[:4]}"
    with (
        watched_page(browser, server.base, PHONE, has_touch=True, is_mobile=True) as (rep, seen),
        watched_page(
            browser,
            server.base,
            PHONE,
            has_touch=True,
            is_mobile=True,
            java_script_enabled=javascript,
        ) as (worker, watch),
    ):
        sign_in(rep, users["representative"])
        url = issue_link(rep)
        assert url.startswith(server.base + "/v/")
        look(rep, artifacts, "voice-my-link-phone", javascript=True)

        # The worker scans it: a plain form, JavaScript off.
        worker.goto(url)
        expect(worker.get_by_role("heading", name="向工会反映")).to_be_visible()
        no_sideways_scroll(worker, PHONE)
        look(worker, artifacts, "voice-form-phone", javascript)
        worker.get_by_label("您的意见建议").fill(text)
        worker.get_by_label("类别").select_option("safety")
        worker.get_by_label("匿名提交（不保存姓名和电话）").check()
        worker.get_by_role("button", name="提交").click()
        expect(worker.get_by_role("heading", name="已收到")).to_be_visible()
        code = worker.locator("#follow-up-code").inner_text().replace("-", "")
        assert len(code) == 16
        look(worker, artifacts, "voice-receipt-phone", javascript)
        worker.get_by_role("link", name="查询我的意见建议").click()
        expect(worker.locator("#follow-stage")).to_have_text("工会代表办理中")
        assert users["representative"] not in worker.content()
        assert "张东峰" not in worker.content()  # no internal names

        # The representative acknowledges and answers it from the inbox.
        rep.get_by_role("link", name="意见建议", exact=True).click()
        rep.get_by_role("link", name=text[:20]).first.click()
        expect(rep.get_by_text("职工扫码反映")).to_be_visible()
        expect(rep.locator("#intake-about")).to_have_text("匿名职工")
        rep.get_by_role("button", name="签收：我已看到").click()
        rep.get_by_label("答复").fill("已协调后勤，本周恢复热水供应。")
        rep.get_by_role("button", name="发送答复").click()
        expect(rep.locator("#suggestion-status")).to_have_attribute("data-status", "answered")

        # The worker sees the answer by the follow-up link and rates it.
        worker.reload()
        expect(worker.locator("#follow-answer")).to_have_text("已协调后勤，本周恢复热水供应。")
        worker.get_by_label("满意", exact=True).check()
        worker.get_by_label("评价意见（选填）").fill("很快解决了")
        worker.get_by_role("button", name="提交评价").click()
        expect(worker.get_by_role("status")).to_have_text("感谢您的评价。")
        expect(worker.locator("[data-rating=satisfied]")).to_contain_text("很快解决了")
        expect(worker.locator("#follow-stage")).to_have_text("已办结")
        no_sideways_scroll(worker, PHONE)
        look(worker, artifacts, "voice-follow-up-phone", javascript)

        # The rating is in the representative's record...
        rep.get_by_role("link", name="履职", exact=True).click()
        expect(rep.locator("#own-record [data-figure=satisfied_pct]")).to_have_text("100.0%")
        expect(rep.locator("#own-record [data-rating=satisfied]")).to_have_text("1")
        sign_out(rep)
        watch.assert_clean()
        seen.assert_clean()
    # ... and in the unit's report.
    with watched_page(browser, server.base, PHONE) as (staff, watch):
        staff.goto("/login")
        staff.get_by_label("用户名").fill(admin.username)
        staff.get_by_label("密码").fill(admin.password)
        staff.get_by_role("button", name="登录").click()
        expect(staff.locator("#whoami")).to_be_visible()
        staff.goto("/dashboard")
        expect(staff.locator("#top-themes [data-category=safety]")).to_be_visible()
        staff.get_by_role("link", name="满意度").click()
        row = staff.locator(f"tr[data-key='{city.unit}']")
        expect(row.locator("[data-figure=satisfied_pct]")).to_have_text("100.0%")
        watch.assert_clean()


def test_a_revoked_or_forged_link_gets_a_plain_chinese_page(
    browser: Any, server: Server, admin: Admin, artifacts: Path
) -> None:
    _, users = seeded_city(server, admin)
    with (
        watched_page(browser, server.base, PHONE) as (rep, _seen),
        watched_page(browser, server.base, PHONE, java_script_enabled=False) as (worker, _),
    ):
        sign_in(rep, users["representative"])
        old = issue_link(rep)
        rep.get_by_role("button", name="重新生成二维码").click()
        expect(rep.get_by_role("status")).to_have_text("已生成新的二维码，旧二维码已失效。")
        new = rep.locator("#intake-url").get_attribute("href")
        assert new != old

        answer = worker.goto(old)
        assert answer is not None
        assert answer.status == 410
        expect(worker.locator("#closed-message")).to_have_text(
            "此二维码已停用，请向您的工会代表索取新的二维码。"
        )
        look(worker, artifacts, "voice-revoked-phone", False)
        head = new.rsplit("/", 1)[1].split(".")[0]
        answer = worker.goto(f"/v/{head}.forgedsignatureAAAAAAAA")
        assert answer is not None
        assert answer.status == 404
        expect(worker.locator("#closed-message")).to_contain_text("此链接无效")
        for bad in ("Traceback", "intake_link", "Error"):
            assert bad not in worker.content()

        # The poster: an A4 PDF with the representative's name, unit and how to use it.
        poster = httpx.get(
            f"{server.base}/my-link/poster.pdf",
            cookies={c["name"]: c["value"] for c in rep.context.cookies()},
            timeout=60,
        )
        assert poster.status_code == 200
        assert poster.headers["content-type"] == "application/pdf"
        pdf = PdfReader(io.BytesIO(poster.content))
        assert len(pdf.pages) == 1
        width, height = (float(v) for v in pdf.pages[0].mediabox.upper_right)
        assert (round(width), round(height)) == (595, 842)  # A4 in points
        words = pdf.pages[0].extract_text()
        for expected in ("向工会反映", "工会代表：张东峰", "扫描二维码", "查询码"):
            assert expected in words, words


def test_a_representative_answers_at_once_or_passes_up_at_once(
    browser: Any, server: Server, admin: Admin, artifacts: Path
) -> None:
    city, users = seeded_city(server, admin)
    worker = city.workers[1]
    with watched_page(browser, server.base, PHONE, has_touch=True, is_mobile=True) as (page, w):
        sign_in(page, users["representative"])
        page.get_by_role("link", name="意见建议", exact=True).click()
        text = f"食堂饭菜涨价{uuid.uuid4().hex[:4]}"
        page.get_by_label("意见建议内容").fill(text)
        page.get_by_label("类别").select_option("wages_and_welfare")
        page.locator("#f-on_behalf_of").select_option(worker)
        page.get_by_role("button", name="提交意见建议").click()
        expect(page.locator("#then-error")).to_have_text("请选择：由您现在答复，还是立即上报。")
        page.get_by_label("立即向上级上报").check()
        page.get_by_label("上报原因").fill("需要县总工会协调")
        no_sideways_scroll(page, PHONE)
        shoot(page, artifacts, "voice-representative-choice-phone")
        page.get_by_role("button", name="提交意见建议").click()
        expect(page.get_by_role("status")).to_have_text("意见建议已提交，并已立即向上级上报。")
        expect(page.locator("#holder")).to_contain_text("李卫国")

        page.get_by_role("link", name="意见建议", exact=True).click()
        page.get_by_label("意见建议内容").fill(f"宿舍空调坏了{uuid.uuid4().hex[:4]}")
        page.get_by_label("类别").select_option("other")
        page.locator("#f-on_behalf_of").select_option(worker)
        page.get_by_label("我现在直接答复").check()
        page.get_by_label("我的答复").fill("已报修，明天上门。")
        page.get_by_role("button", name="提交意见建议").click()
        expect(page.get_by_role("status")).to_have_text("意见建议已提交并答复，答复已记录。")
        expect(page.locator("#suggestion-status")).to_have_attribute("data-status", "answered")
        expect(page.locator("#answer")).to_have_text("已报修，明天上门。")
        # As its raiser he rates the answer (the worker told him it was solved).
        form = page.locator("#rate-form")
        form.get_by_label("满意", exact=True).check()
        form.get_by_role("button", name="提交评价").click()
        expect(page.get_by_role("status")).to_have_text("感谢您的评价。")
        expect(page.locator("#suggestion-status")).to_have_attribute("data-status", "closed")
        w.assert_clean()


def test_a_department_member_resolves_what_the_leader_assigned(
    browser: Any, server: Server, admin: Admin, artifacts: Path
) -> None:
    _, users = seeded_city(server, admin)
    text = f"希望举办职工代表培训班{uuid.uuid4().hex[:4]}"
    with watched_page(browser, server.base, PHONE, has_touch=True, is_mobile=True) as (page, w):
        # The leader appoints the committee member to the training department...
        sign_in(page, users["leader"])
        page.get_by_role("link", name="意见建议", exact=True).click()
        page.get_by_role("link", name="部门办理人员").click()
        page.get_by_label("部门").select_option("training")
        page.get_by_label("成员姓名（全名）").fill("李卫国")
        page.get_by_role("button", name="指定").click()
        expect(page.get_by_role("status")).to_have_text("该成员已被指定为部门办理人员。")
        expect(page.locator("#department-training")).to_contain_text("李卫国")
        shoot(page, artifacts, "voice-department-members-phone")
        # ... and gives a suggestion to the department.
        page.get_by_role("link", name="意见建议", exact=True).click()
        page.get_by_label("意见建议内容").fill(text)
        page.get_by_label("类别").select_option("training")
        page.get_by_role("button", name="提交意见建议").click()
        page.get_by_role("button", name="签收：我已看到").click()
        page.locator("#f-department").select_option("training")
        page.get_by_role("button", name="交办部门").click()
        expect(page.locator("#suggestion-status")).to_have_attribute("data-status", "assigned")
        suggestion_url = page.url.split("?")[0]
        sign_out(page)

        # The department member sees it, takes it up and records the outcome.
        sign_in(page, users["committee"])
        page.get_by_role("link", name="意见建议", exact=True).click()
        expect(page.get_by_role("heading", name="交办：宣教部")).to_be_visible()
        page.get_by_role("link", name=text[:20]).first.click()
        page.get_by_role("button", name="由本部门签收办理").click()
        expect(page.get_by_role("status")).to_have_text("已由本部门签收。")
        page.get_by_label("办理结果").fill("举办首期职工代表培训班，培训125名职工代表")
        page.get_by_role("button", name="记录办理结果").click()
        expect(page.locator("#suggestion-status")).to_have_attribute("data-status", "resolved")
        no_sideways_scroll(page, PHONE)
        shoot(page, artifacts, "voice-department-resolved-phone")
        sign_out(page)

        # The leader follows it: resolved, and the department's steps on the timeline.
        sign_in(page, users["leader"])
        page.goto(suggestion_url)
        expect(page.locator("#outcome")).to_have_text("举办首期职工代表培训班，培训125名职工代表")
        expect(page.locator(".timeline")).to_contain_text("部门已签收")
        w.assert_clean()


def test_a_committee_member_issues_an_enterprise_unions_qr_code_and_poster(
    browser: Any, server: Server, admin: Admin, artifacts: Path
) -> None:
    city, users = seeded_city(server, admin)
    with (
        watched_page(browser, server.base, PHONE, has_touch=True, is_mobile=True) as (page, w),
        watched_page(browser, server.base, PHONE, java_script_enabled=False) as (worker, _),
    ):
        sign_in(page, users["committee"])
        page.get_by_role("link", name="意见建议", exact=True).click()
        page.get_by_role("link", name="我的二维码").click()
        union = page.locator(f"#unit-link-{city.unit}")
        union.get_by_label("接收人").select_option(city.representative)
        union.get_by_role("button", name="生成企业工会二维码").click()
        expect(page.get_by_role("status")).to_have_text("已生成新的二维码，旧二维码已失效。")
        url = page.locator(f"#unit-link-{city.unit} .unit-url").get_attribute("href")
        no_sideways_scroll(page, PHONE)
        shoot(page, artifacts, "voice-union-link-phone")

        # What arrives by the union's code waits on the representative it names.
        worker.goto(url)
        worker.get_by_label("您的意见建议").fill(f"职工食堂排队太久{uuid.uuid4().hex[:4]}")
        worker.get_by_label("类别").select_option("other")
        worker.get_by_role("button", name="提交").click()
        expect(worker.get_by_role("heading", name="已收到")).to_be_visible()

        poster = httpx.get(
            f"{server.base}/my-link/unit/{city.unit}/poster.pdf",
            cookies={c["name"]: c["value"] for c in page.context.cookies()},
            timeout=60,
        )
        assert poster.status_code == 200
        words = PdfReader(io.BytesIO(poster.content)).pages[0].extract_text()
        assert f"跃进煤业工会{city.tag}" in words, words
        assert "工会代表：张东峰" in words, words
        w.assert_clean()
    with httpx.Client(base_url=server.base, timeout=15) as client:
        inbox = client.get(
            f"/feedback/members/{city.representative}/inbox", headers=admin.headers
        ).json()
        assert inbox["count"] == 1
        assert inbox["data"][0]["raised_by"] is None
