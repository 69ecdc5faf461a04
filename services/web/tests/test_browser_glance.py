"""A member's pages on a phone (360×780, touch) on a day the test sets, 15 October 2026: links
past their due date read as overdue, the page opens with what the period still needs, the
header names the person and their tier, the 履职 page opens from the navigation, every tap
target measures at least 44×44 px, and axe-core finds nothing."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from browser_support import (
    Admin,
    Server,
    create_admin,
    header_menu,
    serve_embedded,
    shoot,
    watched_page,
)
from web_seed import PASSWORD, Seeded, accounts, seed

FIXED_NOW = "2026-10-15T02:00:00+00:00"
"""10:00 on 15 October 2026 in the federation's time zone (Asia/Shanghai)."""
PHONE = {"width": 360, "height": 780}
TOUCH = {"has_touch": True, "is_mobile": True}


@pytest.fixture(scope="module")
def fixed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The embedded app with its clock stopped at :data:`FIXED_NOW`."""
    data = tmp_path_factory.mktemp("fixed-day")
    with serve_embedded(data, "fixed_clock_app:create_app", FIXED_NOW=FIXED_NOW) as running:
        yield running


@pytest.fixture(scope="module")
def fixed_admin(fixed_server: Server) -> Admin:
    return create_admin(fixed_server)


def token(client: httpx.Client, username: str) -> dict[str, str]:
    granted = client.post("/roster/auth/token", data={"username": username, "password": PASSWORD})
    assert granted.status_code == 200, granted.text
    return {"Authorization": f"Bearer {granted.json()['access_token']}"}


def wait_for(check: Any, what: str) -> None:
    for _ in range(150):
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"never: {what}")


def prepared(server: Server, admin: Admin) -> tuple[Seeded, dict[str, str], str, str]:
    """The small roster (links from 1 March 2025); the representative has contacted their
    first worker once this year and raised a suggestion, which the committee member holds.
    Answers the roster, the usernames, the suggestion and the first worker's link."""
    tag = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=server.base, timeout=15) as client:
        city = seed(client, tag, admin.headers)
        users = accounts(client, city, tag, admin.headers)
        rep = token(client, users["representative"])

        def links() -> list[dict[str, Any]]:
            found = client.get(f"/contacts/members/{city.representative}/links", headers=rep)
            return found.json() if found.status_code == 200 else []

        wait_for(lambda: len(links()) == 3, "the contacts service has the links")
        body = {
            "upper_member_id": city.representative,
            "lower_member_id": city.workers[0],
            "contacted_on": "2026-02-01",
            "method": "visit",
        }
        logged = client.post("/contacts/contacts", json=body, headers=rep)
        assert logged.status_code == 201, logged.text
        raised = client.post(
            "/feedback/suggestions",
            json={"text": "井下班组希望增加安全培训", "category": "safety", "channel": "visit"},
            headers=rep,
        )
        assert raised.status_code in (200, 201), raised.text
        link = next(s for s in links() if s["link"]["lower_member_id"] == city.workers[0])
        wait_for(
            lambda: (
                client.get("/reports/ready", headers=admin.headers).json()["events_behind"] == 0
            ),
            "the reports have every event",
        )
    return city, users, raised.json()["suggestion_id"], link["link"]["link_id"]


def sign_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#whoami")).to_be_visible()


SMALL_TARGETS = """() => {
  const closed = [...document.querySelectorAll("details")].filter((d) => !d.open);
  for (const d of closed) d.open = true;
  const found = [...document.querySelectorAll(
    "a[href], button, summary, select, textarea, input:not([type=hidden])")];
  const small = found.map((el) => {
    // A checkbox or radio is tapped through its label, which holds it.
    const box = el.matches("input[type=checkbox], input[type=radio]")
      ? (el.closest("label") || el) : el;
    const r = box.getBoundingClientRect();
    return {html: el.outerHTML.slice(0, 90), w: Math.round(r.width), h: Math.round(r.height)};
  }).filter((t) => (t.w || t.h) && (t.w < 44 || t.h < 44));
  for (const d of closed) d.open = false;  // the page as the person left it
  return small;
}"""
"""Every link, button, summary and form control that is shown (with every <details> opened,
then closed again) and measures less than 44×44 px."""


def test_a_representatives_page_on_a_set_day_shows_overdue_links_and_what_the_year_needs(
    browser: Any, fixed_server: Server, fixed_admin: Admin, artifacts: Path
) -> None:
    city, users, _suggestion, _link = prepared(fixed_server, fixed_admin)
    first, second, third = city.workers
    with watched_page(browser, fixed_server.base, PHONE, **TOUCH) as (page, watch):
        sign_in(page, users["representative"])
        expect(page.get_by_role("heading", name="我的联系")).to_be_visible()
        # 15 Oct to 31 Dec: 77 days; the first worker owes 1 more, the other two 2 each.
        expect(page.locator("#period-summary")).to_have_text("本年度还剩 77 天，还需联系 3 人 5 次")
        expect(page.locator("#period-summary")).to_have_attribute("data-level", "overdue")
        for worker in (second, third):
            due = page.locator(f"#link-{worker} [data-due]")
            expect(due).to_have_attribute("data-due", "overdue")
            expect(due.locator("time")).to_have_text("已逾期 105 天")
            expect(due).to_contain_text("2026年7月2日")
            colour = due.locator("time").evaluate("(el) => getComputedStyle(el).color")
            assert colour == "rgb(155, 28, 28)"  # the "bad" red of the standings
        later = page.locator(f"#link-{first} [data-due]")
        expect(later).to_have_attribute("data-due", "later")
        expect(later.locator("time")).to_have_text("还剩 77 天")
        # The header: the person's name and tier, not the username and "成员".
        who = page.locator("#whoami")
        expect(who).to_contain_text("张东峰")
        expect(who).to_contain_text("工会代表")
        expect(who).not_to_contain_text(users["representative"])
        header = page.locator("header.top").bounding_box()
        assert header is not None
        assert header["height"] <= 64, header  # one row on a phone
        shoot(page, artifacts, "glance-my-contacts-phone")
        # In English the same day reads the same way.
        header_menu(page).get_by_role("button", name="English").click()
        expect(page.locator("#period-summary")).to_have_text(
            "77 days left in the year; still to contact: 3 people, 5 contacts"
        )
        expect(page.locator(f"#link-{second} [data-due] time")).to_have_text("105 days overdue")
        expect(page.locator(f"#link-{second} [data-due]")).to_contain_text("2 Jul 2026")
        expect(page.locator("#whoami")).to_contain_text("Representative")
        header_menu(page).get_by_role("button", name="中文").click()
        watch.assert_clean()


def test_the_performance_page_opens_from_the_navigation_with_the_members_record(
    browser: Any, fixed_server: Server, fixed_admin: Admin, artifacts: Path
) -> None:
    _city, users, _suggestion, _link = prepared(fixed_server, fixed_admin)
    with watched_page(browser, fixed_server.base, PHONE, **TOUCH) as (page, watch):
        sign_in(page, users["representative"])
        page.get_by_role("navigation").get_by_role("link", name="履职").click()
        expect(page.get_by_role("heading", name="履职", exact=True)).to_be_visible()
        record = page.locator("#own-record")
        expect(record).to_contain_text("2026 年度履职情况")
        expect(record.locator('[data-figure="contacts_made"]')).to_have_text("1")
        expect(record.locator('[data-method="visit"]')).to_have_text("1")
        expect(record.locator('[data-figure="suggestions_raised"]')).to_have_text("1")
        shoot(page, artifacts, "glance-performance-phone")
        watch.assert_clean()


def test_every_tap_target_of_the_member_pages_is_at_least_44_px_square(
    browser: Any, fixed_server: Server, fixed_admin: Admin, artifacts: Path
) -> None:
    _city, users, suggestion, link = prepared(fixed_server, fixed_admin)
    pages = {
        "representative": [
            "/my-contacts",
            f"/my-contacts/card/{link}",
            "/my-contacts/meeting",
            "/suggestions",
            f"/suggestions/{suggestion}",
            "/performance",
            "/password",
        ],
        # The committee member holds the suggestion: its steps' forms are on the page.
        "committee": ["/suggestions", f"/suggestions/{suggestion}", "/my-contacts"],
    }
    small: dict[str, list[Any]] = {}
    with watched_page(browser, fixed_server.base, PHONE, **TOUCH) as (page, watch):
        for role, paths in pages.items():
            sign_in(page, users[role])
            for path in paths:
                page.goto(path)
                shoot(page, artifacts, f"glance-{role}-{re.sub(r'[^a-z]+', '-', path)}")
                found = page.evaluate(SMALL_TARGETS)
                if found:
                    small[f"{role} {path}"] = found
        assert small == {}
        # The deadline of the suggestion reads as time left, with the exact moment beside it.
        page.goto(f"/suggestions/{suggestion}")
        deadline = page.locator("main [data-due]").first
        expect(deadline.locator("time")).to_have_text(re.compile(r"^还剩 \d+ 天( \d+ 小时)?$"))
        expect(deadline).to_contain_text("2026年10月")
        watch.assert_clean()
