"""The common refusals in a real browser, as people meet them: a full span, a username already
taken, a short password, a bad import row, a file that is not UTF-8, a contact dated before its
link. Each reads in Chinese beside its field, with its figures; no service English reaches the
page."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect
from test_browser_flows import seeded_city, sign_in

from browser_support import DESKTOP, PHONE, Admin, Server, shoot, watched_page
from web_seed import PASSWORD, Seeded, ok

ENGLISH = re.compile(r"\b(the|is|are|must|span|already|characters|file|before)\b", re.I)
"""Words of the services' English refusals; none may be on a Chinese page."""


def no_english(page: Any) -> None:
    """The page's text holds no sentence of the services' English."""
    text = page.locator("main").inner_text()
    assert not ENGLISH.search(text), text


def sign_in_as_admin(page: Any, admin: Admin) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(admin.username)
    page.get_by_label("密码").fill(admin.password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="总览")).to_be_visible()


def fill_the_span(server: Server, admin: Admin, city: Seeded) -> str:
    """Seven more workers under the representative (10 of 10) and one more, unlinked."""
    with httpx.Client(base_url=server.base, timeout=15, headers=admin.headers) as client:
        extra = []
        for number in range(8):
            member = str(uuid.uuid4())
            body = {
                "member_id": member,
                "unit_id": city.unit,
                "tier": "worker",
                "name": f"职工{number}",
                "external_number": f"{city.tag}-x{number}",
                "registered_on": "2025-01-02",
            }
            ok(client, "POST", "/roster/members", json=body)
            extra.append(member)
        for member in extra[:7]:
            link = {"upper_member_id": city.representative, "lower_member_id": member}
            ok(client, "POST", "/roster/links", json={**link, "assigned_on": "2025-03-01"})
    return extra[7]


def test_the_common_refusals_read_in_chinese_beside_their_fields(
    browser: Any, server: Server, admin: Admin, artifacts: Path
) -> None:
    city, users = seeded_city(server, admin)
    unlinked = fill_the_span(server, admin, city)
    with watched_page(browser, server.base, DESKTOP) as (page, watch):
        sign_in_as_admin(page, admin)

        # A full span: the figures and what to do, beside the upper member.
        # The representative, found by their number (the seeded names repeat across tests).
        page.goto(f"/directory/members/{unlinked}?upper_q={city.tag}-2")
        page.get_by_role("button", name="保存联系关系").click()
        refusal = page.locator(".checklist .field-error")
        expect(refusal).to_have_text("该工会代表已联系 10 人（目标 10 人），超出须填写理由。")
        no_english(page)
        shoot(page, artifacts, "refusal-span-full")

        # A username already taken, then a password too short: each beside its field.
        page.goto("/accounts")
        page.get_by_label("用户名").fill(users["representative"])
        page.get_by_label("角色").select_option("auditor")
        page.get_by_label("密码（系统客户端不设密码）").fill(PASSWORD)
        page.get_by_role("button", name="开通此账号").click()
        taken = f"用户名 {users['representative']} 已被使用。"
        expect(page.locator("#username-error")).to_have_text(taken)
        page.get_by_label("用户名").fill(f"auditor2-{city.tag}")
        page.get_by_label("密码（系统客户端不设密码）").fill("short")
        page.get_by_role("button", name="开通此账号").click()
        expect(page.locator("#password-error")).to_have_text("至少需要 10 个字符。")
        no_english(page)

        # An import file that is not UTF-8 text, and a real import with a bad row.
        page.goto("/directory/import")
        page.locator("input[type=file][name=file]").set_input_files(
            {"name": "units.csv", "mimeType": "text/csv", "buffer": b"code,name\n\xff\xfe\x00"}
        )
        page.get_by_label("CSV 文件内容").select_option("units")
        page.get_by_role("button", name="上传").click()
        expect(page.locator("#file-error")).to_contain_text("文件文字无法识别")
        no_english(page)
        rows = f"code,name,kind\nZ{city.tag},错误的单位,village\n"
        page.locator("input[type=file][name=file]").set_input_files(
            {"name": "units.csv", "mimeType": "text/csv", "buffer": rows.encode()}
        )
        page.get_by_label("CSV 文件内容").select_option("units")
        page.get_by_role("button", name="上传").click()
        expect(page.get_by_text("未保存任何内容。")).to_be_visible()
        problems = page.locator("table.stack tbody tr")
        expect(problems).to_have_count(1)
        expect(problems.first).to_contain_text("kind")
        shoot(page, artifacts, "refusal-import")
        watch.assert_clean()

    # On the phone: a contact dated before its link is refused with both dates.
    with watched_page(browser, server.base, PHONE) as (page, watch):
        sign_in(page, users["representative"])
        worker = city.workers[0]
        row = page.locator(f"#link-{worker}")
        row.get_by_text("记录联系").click()
        row.get_by_label("日期").fill("2025-01-15")
        row.get_by_role("button", name="走访").click()
        expect(
            page.get_by_text("2025年1月15日 早于结对日期（2025年3月1日）。").first
        ).to_be_visible()
        no_english(page)
        watch.assert_clean()
