"""A representative's 待办 on a phone (360×780, touch), on 15 October 2026: the count in the
header of every page, the notifications page (unread, then read, the people named), and the
calendar address, fetched as a phone calendar fetches it (no sign-in), parsed back, then
revoked; staff choosing the units whose monthly digest comes to their 待办."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest
from playwright.sync_api import expect
from test_browser_glance import PHONE, SMALL_TARGETS, TOUCH, sign_in, token, wait_for

from browser_support import (
    Admin,
    Server,
    create_admin,
    header_menu,
    serve_embedded,
    shoot,
    watched_page,
)
from support.own_servers import free_port
from web_seed import accounts, seed

FIXED_NOW = "2026-10-15T02:00:00+00:00"
"""10:00 on 15 October 2026 in Asia/Shanghai: outside the quiet hours."""


@pytest.fixture(scope="module")
def notify_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The embedded app stopped at :data:`FIXED_NOW`, its notify scheduler ticking quickly."""
    data = tmp_path_factory.mktemp("notify-day")
    with serve_embedded(
        data,
        "fixed_clock_app:create_app",
        FIXED_NOW=FIXED_NOW,
        SANLIAN_NOTIFY_SCHEDULER_INTERVAL_SECONDS="0.5",
        SANLIAN_NOTIFY_MAX_ATTEMPTS="1",  # a failed send is final at once (the staff's page)
    ) as running:
        yield running


@pytest.fixture(scope="module")
def notify_admin(notify_server: Server) -> Admin:
    return create_admin(notify_server)


def sign_in_staff(page: Any, admin: Admin) -> None:
    """Sign in as the server's admin."""
    page.goto("/login")
    page.get_by_label("用户名").fill(admin.username)
    page.get_by_label("密码").fill(admin.password)
    page.get_by_role("button", name="登录").click()


def test_the_todo_count_the_notifications_page_and_the_calendar_on_a_phone(
    browser: Any, notify_server: Server, notify_admin: Admin, artifacts: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=notify_server.base, timeout=15) as client:
        city = seed(client, tag, notify_admin.headers)
        users = accounts(client, city, tag, notify_admin.headers)
        rep = token(client, users["representative"])

        def mine() -> dict[str, Any]:
            found = client.get("/notify/me/notifications", headers=rep)
            return found.json() if found.status_code == 200 else {"count": 0, "data": []}

        # The links date from 1 March 2025 and nothing was logged: on 15 October the
        # October digest (3 people, 6 contacts) and one overdue notice per link (each owed
        # its first contact by 2 July).
        wait_for(lambda: mine()["count"] == 4, "the representative's four notifications")
        kinds = sorted(n["kind"] for n in mine()["data"])
        assert kinds == ["contact_overdue"] * 3 + ["contacts_due"]

    with watched_page(browser, notify_server.base, PHONE, **TOUCH) as (page, watch):
        sign_in(page, users["representative"])
        count = page.locator("header #todo-count")
        expect(count).to_have_text("4")
        header = page.locator("header.top").bounding_box()
        assert header is not None
        assert header["height"] <= 64, header  # still one row on a phone
        header_menu(page).get_by_role("link", name="待办").click()
        expect(page.get_by_role("heading", name="待办", exact=True)).to_be_visible()
        expect(page.locator("#unread-summary")).to_have_text("4 条未读")
        digest = page.locator("[data-kind=contacts_due]")
        expect(digest).to_contain_text("本年度还剩 77 天：还需联系 3 人共 6 次")
        # The names come from the roster when the page is read; not from the event.
        said = digest.locator("[data-text] p").first
        expect(said).to_have_text(
            re.compile(r"^本年度还剩 77 天：还需联系 3 人共 6 次：\S+、\S+、\S+。$")
        )
        listed = said.inner_text().removesuffix("。").split("次：")[1].split("、")
        assert sorted(listed) == sorted(["王芳", "赵强", "刘敏"])  # all due on 2 July
        expect(digest).to_contain_text("未读")
        assert page.evaluate(SMALL_TARGETS) == []
        shoot(page, artifacts, "notifications-phone")
        digest.get_by_role("button", name="标为已读").click()
        expect(page.locator("#unread-summary")).to_have_text("3 条未读")
        expect(page.locator("[data-kind=contacts_due]")).to_have_attribute("data-read", "yes")
        expect(page.locator("header #todo-count")).to_have_text("3")
        # The count is on every page, not only this one.
        page.get_by_role("navigation").get_by_role("link", name="我的联系").click()
        expect(page.locator("header #todo-count")).to_have_text("3")
        header_menu(page).get_by_role("link", name="待办").click()

        page.get_by_role("button", name="生成日历订阅地址").click()
        url = page.locator("#calendar-url").input_value()
        assert url.startswith(notify_server.base + "/calendar/")
        assert url.endswith(".ics")
        expect(page.locator("#calendar-subscribe")).to_have_attribute(
            "href", url.replace("http://", "webcal://")
        )
        watch.assert_clean()

        # A phone calendar fetches the address without any sign-in.
        fetched = httpx.get(url, timeout=15)
        assert fetched.status_code == 200, fetched.text
        assert fetched.headers["content-type"].startswith("text/calendar")
        calendar = icalendar.Calendar.from_ical(fetched.content)
        events = list(calendar.walk("VEVENT"))
        assert len(events) == 3  # one per link still owing, each overdue since 2 July
        summaries = []
        for event in events:
            assert event.decoded("dtstart").isoformat() == "2026-07-02"
            summaries.append(str(event["summary"]))
            assert list(event.walk("VALARM"))
        # Each names the person to contact (the roster's name at this fetch).
        assert sorted(summaries) == sorted(
            f"联系到期：{name}，还需联系 2 次" for name in ("王芳", "赵强", "刘敏")
        )

        page.get_by_role("button", name="停用日历地址 1").click()
        expect(page.locator("main")).to_contain_text("该日历地址已停用。")
        assert httpx.get(url, timeout=15).status_code == 404
        watch.assert_clean()


def test_staff_see_the_sends_that_failed_for_good(
    browser: Any, notify_server: Server, notify_admin: Admin, artifacts: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    nowhere = f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send?key=k"
    with httpx.Client(base_url=notify_server.base, timeout=15) as client:
        city = seed(client, tag, notify_admin.headers)
        robot = {"format": "wecom", "address": nowhere}
        set_robot = client.post(
            f"/notify/units/{city.unit}/webhook", json=robot, headers=notify_admin.headers
        )
        assert set_robot.status_code == 200, set_robot.text
        urged = client.post(
            "/notify/urges", json={"unit_id": city.unit}, headers=notify_admin.headers
        )
        assert urged.status_code == 201, urged.text

        def failed() -> int:
            found = client.get(
                "/notify/deliveries", params={"status": "failed"}, headers=notify_admin.headers
            )
            return int(found.json()["count"]) if found.status_code == 200 else 0

        wait_for(lambda: failed() >= 1, "the urge's send failed for good")

    with watched_page(browser, notify_server.base, PHONE, **TOUCH) as (page, watch):
        sign_in_staff(page, notify_admin)
        header_menu(page).get_by_role("link", name="发送记录").click()
        expect(page.get_by_role("heading", name="发送记录")).to_be_visible()
        row = page.locator("#sending-record tbody tr").filter(has_text="群机器人").first
        expect(row).to_contain_text("webhook unavailable")
        expect(row).to_contain_text(city.unit)  # a unit: its id (members show their names)
        assert page.evaluate(SMALL_TARGETS) == []
        shoot(page, artifacts, "outbox-phone")
        watch.assert_clean()


def test_staff_take_a_units_monthly_digest_on_their_todo_page(
    browser: Any, notify_server: Server, notify_admin: Admin, artifacts: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=notify_server.base, timeout=15) as client:
        seed(client, tag, notify_admin.headers)

    with watched_page(browser, notify_server.base, PHONE, **TOUCH) as (page, watch):
        sign_in_staff(page, notify_admin)
        header_menu(page).get_by_role("link", name="待办").click()
        expect(page.get_by_role("heading", name="待办", exact=True)).to_be_visible()
        units = page.locator("#digest-units")
        expect(units).to_contain_text("接收联系月报的单位")
        units.get_by_label(f"跃进煤业工会{tag}").check()
        page.get_by_label("电子邮箱").fill("staff@example.org")
        page.get_by_role("button", name="保存").click()
        expect(page.locator("main")).to_contain_text("已保存")
        expect(units.get_by_label(f"跃进煤业工会{tag}")).to_be_checked()
        expect(units.get_by_label(f"阳泉市总工会{tag}")).not_to_be_checked()
        assert page.evaluate(SMALL_TARGETS) == []

        # The scheduler's next tick issues the unit's October digest to this account.
        title = f"跃进煤业工会{tag}联系月报"

        def arrived() -> bool:
            page.reload()
            return bool(page.get_by_role("heading", name=title).count() == 1)

        wait_for(arrived, "the unit's monthly digest on the staff's page")
        digest = page.locator("[data-kind=unit_digest]").filter(has_text=title)
        expect(digest).to_contain_text("1. 张东峰（工会代表）：还需联系 3 人共 6 次")
        expect(digest).to_contain_text("2. 李卫国（全委会委员）：还需联系 1 人共 2 次")
        expect(page.locator("header #todo-count")).not_to_have_text("")
        shoot(page, artifacts, "staff-digest-phone")
        digest.get_by_role("button", name="标为已读").click()
        expect(page.locator("[data-kind=unit_digest]").filter(has_text=title)).to_have_attribute(
            "data-read", "yes"
        )
        watch.assert_clean()
