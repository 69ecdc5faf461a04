"""The phone in the field, in a real browser at 360×780 with touch: contacts logged without a
network wait on the phone and are stored once each when it returns (a reload in between, an
answer lost on the way); a wrong tap is undone; a meeting confirms only its participants; a
contact is corrected and withdrawn from its card, and a refusal is shown beside its entry.

What the pages show is checked against what the contacts API holds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import expect
from test_browser_flows import seeded_city, sign_in

from browser_support import Admin, Server, Watch, shoot
from eventspine.config import Settings

PHONE_TOUCH = {"width": 360, "height": 780}
OFFLINE = "ERR_INTERNET_DISCONNECTED"
"""What Chromium logs for each request a page makes while the test holds the network off."""


@contextmanager
def phone(browser: Any, server: Server, **options: Any) -> Iterator[tuple[Any, Any, Watch]]:
    """A phone: a fresh context (its own cookies, storage and service worker) with touch."""
    context = browser.new_context(
        viewport=PHONE_TOUCH,
        has_touch=True,
        is_mobile=True,
        base_url=server.base,
        locale="zh-CN",
        **options,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch = Watch(host=urlsplit(server.base).netloc)
    watch.attach(page)
    try:
        yield page, context, watch
    finally:
        context.close()


def assert_clean_but_offline(watch: Watch) -> None:
    """Clean, apart from the requests the test made fail by holding the network off."""
    watch.console_errors = [e for e in watch.console_errors if OFFLINE not in e]
    watch.assert_clean()


KEPT = """async () => {
  const ready = await navigator.serviceWorker.ready;
  return !!ready.active && !!navigator.serviceWorker.controller
    && !!(await caches.match("/my-contacts"));
}"""


def page_kept_on_the_phone(page: Any) -> None:
    """Wait until the service worker controls the page and keeps my contacts."""
    page.wait_for_function(KEPT, polling=200)


def log(page: Any, worker: str, method: str, note: str = "", day: str | None = None) -> None:
    """Open the row's form, write the note (and the date), tap the way of contacting."""
    row = page.locator(f"#link-{worker}")
    row.locator("summary").tap()
    if note:
        row.get_by_label("备注（可不填）").fill(note)
    if day:
        row.get_by_label("日期").fill(day)
    row.get_by_role("button", name=method, exact=True).tap()


def api_contacts(server: Server, admin: Admin, rep: str) -> dict[str, list[dict[str, Any]]]:
    """Every contact the contacts service holds on the representative's links, by worker."""
    with httpx.Client(base_url=server.base, headers=admin.headers, timeout=15) as client:
        links = client.get(f"/contacts/members/{rep}/links").json()
        found = {}
        for item in links:
            card = client.get(f"/contacts/links/{item['link']['link_id']}/card").json()
            found[item["link"]["lower_member_id"]] = card["contacts"]
        return found


def federation_today() -> str:
    """Today where the federation is (what the contacts service calls today)."""
    return Settings().local_date(datetime.now(UTC)).isoformat()


def made(server: Server, admin: Admin, upper: str, lower: str, day: str) -> str:
    """A visit logged through the contacts API; its id."""
    contact_id = str(uuid.uuid4())
    body = {"contact_id": contact_id, "upper_member_id": upper, "lower_member_id": lower}
    body |= {"contacted_on": day, "method": "visit"}
    answer = httpx.post(
        f"{server.base}/contacts/contacts", json=body, headers=admin.headers, timeout=15
    )
    assert answer.status_code == 201, answer.text
    return contact_id


def counted(page: Any, worker: str) -> Any:
    return page.locator(f"#link-{worker} [data-counted]")


def test_contacts_logged_offline_wait_on_the_phone_and_are_stored_once_each_when_online(
    browser: Any, server: Server, admin: Admin, artifacts: Path
) -> None:
    city, users = seeded_city(server, admin)
    first, second, third = city.workers
    with phone(browser, server) as (page, context, watch):
        sign_in(page, users["representative"])
        page_kept_on_the_phone(page)

        context.set_offline(True)
        log(page, first, "电话", note="井下通风问题")
        log(page, second, "走访")
        # A contact dated before the link existed: the service will refuse it, for a reason.
        log(page, third, "网络", day="2024-06-01")
        outbox = page.locator("#outbox")
        expect(outbox.locator(".outbox-count")).to_have_text("待发送 3 条")
        expect(outbox).to_contain_text("暂无网络：已保存在本机，联网后自动发送。")
        expect(page.locator(f"#link-{first} [data-pending-for]")).to_be_visible()
        expect(counted(page, first)).to_have_attribute("data-counted", "0")
        shoot(page, artifacts, "offline-pending-phone")

        # Reloaded without a network: the page comes from the phone, the entries too.
        probe = "fetch('/health').then(() => 'network', () => 'no network')"
        assert context.service_workers[0].evaluate(probe) == "no network"
        reloaded = page.reload()
        assert reloaded is not None
        assert reloaded.from_service_worker
        expect(page.get_by_role("heading", name="我的联系")).to_be_visible()
        expect(outbox.locator(".outbox-count")).to_have_text("待发送 3 条")
        assert api_contacts(server, admin, city.representative) == {
            first: [],
            second: [],
            third: [],
        }

        context.set_offline(False)
        expect(outbox.locator(".outbox-count")).to_have_count(0, timeout=30_000)
        expect(counted(page, first)).to_have_attribute("data-counted", "1")
        expect(counted(page, second)).to_have_attribute("data-counted", "1")
        refused = outbox.locator("li[data-state=refused]")
        expect(refused).to_have_count(1)
        expect(refused).to_contain_text("未保存：")
        expect(refused).to_contain_text("2024-06-01")
        shoot(page, artifacts, "offline-refused-phone")

        page.reload()  # what the page shows is what the services hold; the refusal stays
        expect(counted(page, first)).to_have_attribute("data-counted", "1")
        expect(outbox.locator("li[data-state=refused]")).to_have_count(1)
        refused.get_by_role("button", name="放弃此条").tap()
        expect(outbox).to_be_hidden()

        held = api_contacts(server, admin, city.representative)
        assert [(c["method"], c["note"]) for c in held[first]] == [("phone", "井下通风问题")]
        assert [c["method"] for c in held[second]] == ["visit"]
        assert held[third] == []
        assert_clean_but_offline(watch)


def test_a_contact_whose_answer_was_lost_is_sent_again_and_stored_once(
    browser: Any, server: Server, admin: Admin
) -> None:
    city, users = seeded_city(server, admin)
    worker = city.workers[0]
    answers: list[int] = []

    def lose_the_answer(route: Any) -> None:
        # The server gets the contact and stores it; its answer never reaches the phone.
        answers.append(route.fetch().status)
        route.abort("internetdisconnected")

    # No service worker here: the test's route sees every request the page makes.
    with phone(browser, server, service_workers="block") as (page, context, watch):
        sign_in(page, users["representative"])
        context.route("**/my-contacts/log", lose_the_answer, times=1)
        log(page, worker, "走访")
        expect(page.locator("#outbox .outbox-count")).to_have_text("待发送 1 条")
        expect(page.locator("#outbox")).to_contain_text("暂无网络")  # the send failed
        assert answers == [200]  # ... after the server had stored it
        page.locator("#outbox").get_by_role("button", name="立即发送").tap()
        expect(page.locator("#outbox")).to_be_hidden()
        expect(counted(page, worker)).to_have_attribute("data-counted", "1")
        assert len(api_contacts(server, admin, city.representative)[worker]) == 1
        assert_clean_but_offline(watch)


def test_a_wrong_tap_is_undone_and_the_count_returns(
    browser: Any, server: Server, admin: Admin, artifacts: Path
) -> None:
    city, users = seeded_city(server, admin)
    worker = city.workers[1]
    with phone(browser, server) as (page, _, watch):
        sign_in(page, users["representative"])
        # The note and the date come before the ways of contacting: a tap sends the form.
        form = page.locator(f"#link-{worker} form.quick")
        order = form.evaluate(
            "(f) => [...f.querySelectorAll('input:not([type=hidden]), button')].map((e) => e.name)"
        )
        assert order[1:3] == ["note", "contacted_on"], order  # after the disabled default
        # Enter in the note sends nothing: only a way of contacting does.
        row = page.locator(f"#link-{worker}")
        row.locator("summary").tap()
        row.get_by_label("备注（可不填）").fill("打错了")
        row.get_by_label("备注（可不填）").press("Enter")
        page.wait_for_timeout(500)
        expect(page.locator("#outbox")).to_be_hidden()
        expect(counted(page, worker)).to_have_attribute("data-counted", "0")
        row.locator("summary").tap()  # closed again
        log(page, worker, "电话")
        row = page.locator(f"#link-{worker}")
        expect(row.get_by_role("status")).to_have_text("联系已记录。")
        expect(counted(page, worker)).to_have_attribute("data-counted", "1")
        expect(row.locator("[data-status]")).to_have_attribute("data-status", "behind")
        shoot(page, artifacts, "undo-phone")
        row.get_by_role("button", name="撤销这次记录").tap()
        expect(row.get_by_role("status")).to_have_text("已撤销，不再计入。")
        expect(counted(page, worker)).to_have_attribute("data-counted", "0")
        expect(row.locator("[data-status]")).to_have_attribute("data-status", "none")
        expect(row.get_by_role("button", name="撤销这次记录")).to_have_count(0)
        held = api_contacts(server, admin, city.representative)[worker]
        assert [(c["retracted"], c["retraction"]["reason"]) for c in held] == [
            (True, "误记，当即撤销。")
        ]
        watch.assert_clean()


def test_a_meeting_shows_who_still_owes_and_confirms_only_its_participants(
    browser: Any, server: Server, admin: Admin, artifacts: Path
) -> None:
    city, users = seeded_city(server, admin)
    met, came, absent = city.workers
    for _ in range(2):  # the link is met for the period
        made(server, admin, city.representative, met, federation_today())
    with phone(browser, server) as (page, _, watch):
        sign_in(page, users["representative"])
        page.get_by_role("link", name="记录座谈会").tap()
        expect(page.locator("#owing-summary")).to_have_text("本期尚需联系：2 人")
        expect(page.locator(f"#participant-{came} [data-owing]")).to_have_text("还需联系 2 次")
        expect(page.locator(f"#participant-{absent} [data-owing]")).to_have_text("还需联系 2 次")
        expect(page.locator(f"#participant-{met} [data-owing]")).to_have_count(0)
        shoot(page, artifacts, "meeting-phone")
        page.locator(f"#participant-{came} input").check()
        page.get_by_role("button", name="记录座谈会").tap()
        expect(page.get_by_role("heading", name="我的联系")).to_be_visible()
        expect(page.locator(f"#link-{came} .notice")).to_have_text("联系已记录。")
        expect(page.locator(f"#link-{absent} .notice")).to_have_count(0)
        expect(page.locator(f"#link-{met} .notice")).to_have_count(0)
        expect(counted(page, came)).to_have_attribute("data-counted", "1")
        expect(counted(page, absent)).to_have_attribute("data-counted", "0")
        held = api_contacts(server, admin, city.representative)
        assert [c["method"] for c in held[came]] == ["meeting"]
        assert held[absent] == []
        watch.assert_clean()


def test_a_contact_is_corrected_and_another_withdrawn_from_the_card(
    browser: Any, server: Server, admin: Admin, artifacts: Path
) -> None:
    city, users = seeded_city(server, admin)
    worker = city.workers[2]
    early = made(server, admin, city.representative, worker, "2025-06-01")
    late = made(server, admin, city.representative, worker, "2025-08-01")
    with phone(browser, server) as (page, _, watch):
        sign_in(page, users["representative"])
        page.locator(f"#link-{worker}").get_by_role("link", name="联系卡").tap()
        expect(page.locator("h1")).to_contain_text("刘敏")

        # Nothing changed: refused, and the reason is shown beside the entry.
        change = page.locator(f"#change-{early}")
        change.get_by_text("更正或撤回").tap()
        change.get_by_label("更正原因").fill("日期记错")
        change.get_by_role("button", name="保存更正").tap()
        refused = page.locator("#outbox li[data-state=refused]")
        expect(refused).to_contain_text("请先修改日期、方式或备注。")
        refused.get_by_role("button", name="放弃此条").tap()

        change = page.locator(f"#change-{early}")
        change.get_by_label("日期").fill("2025-06-02")
        change.get_by_label("联系方式").select_option("phone")
        change.get_by_label("更正原因").fill("日期记错")
        change.get_by_role("button", name="保存更正").tap()
        expect(page.get_by_role("status")).to_have_text("更正已保存。")
        row = page.locator(f"#contact-{early}")
        expect(row.locator("[data-contact=corrected]")).to_be_visible()
        expect(row).to_contain_text("方式由 走访 改为 电话")
        expect(row).to_contain_text("原因：日期记错")

        change = page.locator(f"#change-{late}")
        change.get_by_text("更正或撤回").tap()
        change.get_by_label("撤回原因").fill("重复录入")
        change.get_by_role("button", name="撤回这次联系").tap()
        expect(page.get_by_role("status")).to_have_text("撤回已保存，这次联系不再计入。")
        expect(page.locator(f"#contact-{late} [data-contact=retracted]")).to_be_visible()
        expect(page.locator(f"#change-{late}")).to_have_count(0)  # withdrawn: final
        shoot(page, artifacts, "card-phone")
        held = {
            c["contact_id"]: c for c in api_contacts(server, admin, city.representative)[worker]
        }
        assert (held[early]["contacted_on"], held[early]["method"]) == ("2025-06-02", "phone")
        assert held[late]["retracted"] is True
        assert held[late]["retraction"]["reason"] == "重复录入"
        watch.assert_clean()


def test_without_javascript_the_forms_post_as_before_and_only_the_logged_row_confirms(
    browser: Any, server: Server, admin: Admin
) -> None:
    city, users = seeded_city(server, admin)
    worker, other = city.workers[0], city.workers[1]
    with phone(browser, server, java_script_enabled=False) as (page, _, watch):
        sign_in(page, users["representative"])
        expect(page.locator("#outbox")).to_be_hidden()
        log(page, worker, "走访", note="谈了培训")
        row = page.locator(f"#link-{worker}")
        expect(row.get_by_role("status")).to_have_text("联系已记录。")
        expect(page.locator(f"#link-{other} .notice")).to_have_count(0)
        expect(counted(page, worker)).to_have_attribute("data-counted", "1")
        row.get_by_role("button", name="撤销这次记录").tap()
        expect(row.get_by_role("status")).to_have_text("已撤销，不再计入。")
        expect(counted(page, worker)).to_have_attribute("data-counted", "0")
        # A refusal is shown in the row, beside its field, with what was typed.
        log(page, worker, "电话", note="补记", day="2024-06-01")
        expect(row.get_by_role("alert").first).to_be_visible()
        expect(row.get_by_label("日期")).to_have_attribute("aria-invalid", "true")
        expect(row.get_by_label("备注（可不填）")).to_have_value("补记")
        held = api_contacts(server, admin, city.representative)[worker]
        assert [(c["note"], c["retracted"]) for c in held] == [("谈了培训", True)]
        watch.assert_clean()
