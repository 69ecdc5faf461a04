"""Urgency and the domain's words on the pages, in process (no browser), on a day the test
sets (15 October 2026): due dates as days overdue or left, the period's summary, deadlines and
the queue in days and hours, the header's name and tier, the 履职 page."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from test_frontend_access import PASSWORD, sign_in

from eventspine.config import Settings
from support.auth import STAFF, as_member
from web.embedded import create_app

NOW = datetime(2026, 10, 15, 2, 0, tzinfo=UTC)
"""10:00 in Beijing; in the past, as tokens' issue times must be (see fixed_clock_app)."""


def clock() -> datetime:
    return NOW


async def ok(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> Any:
    kw.setdefault("headers", STAFF)
    answer = await client.request(method, url, **kw)
    assert answer.status_code in (200, 201), f"{method} {url}: {answer.text}"
    return answer.json()


async def member(client: httpx.AsyncClient, unit: str, tier: str, name: str, n: int) -> str:
    member_id = str(uuid.uuid4())
    body = {"member_id": member_id, "unit_id": unit, "tier": tier, "name": name}
    body |= {"external_number": f"G{n}", "registered_on": "2025-01-01"}
    await ok(client, "POST", "/roster/members", json=body)
    return member_id


async def settled(client: httpx.AsyncClient) -> None:
    for _ in range(200):  # the reports projections follow the stores
        if (await ok(client, "GET", "/reports/ready"))["events_behind"] == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the reports never caught up")


def text_of(html: str) -> str:
    """The page's words without tags or line breaks (what a reader sees, roughly)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_pages_say_how_soon_things_are_due_in_the_domains_words(tmp_path: Path) -> None:
    app = create_app(Settings(sqlite_dir=str(tmp_path)), clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sanlian") as client:
            unit = str(uuid.uuid4())
            body = {"unit_id": unit, "name": "阳泉市总工会", "kind": "city_federation"}
            await ok(client, "POST", "/roster/units", json=body)
            committee = await member(client, unit, "committee", "李卫国", 1)
            rep = await member(client, unit, "representative", "张东峰", 2)
            workers = [
                await member(client, unit, "worker", name, 3 + i)
                for i, name in enumerate(("王芳", "赵强", "刘敏"))
            ]
            for upper, lower in [(committee, rep), *((rep, w) for w in workers)]:
                link = {"upper_member_id": upper, "lower_member_id": lower}
                await ok(client, "POST", "/roster/links", json=link | {"assigned_on": "2025-03-01"})
            contact = {"upper_member_id": rep, "lower_member_id": workers[0]}
            contact |= {"contacted_on": "2026-02-01", "method": "visit"}
            for _ in range(200):  # once the contacts replica has the link
                logged = await client.post("/contacts/contacts", headers=STAFF, json=contact)
                if logged.status_code == 201:
                    break
                await asyncio.sleep(0.05)
            assert logged.status_code == 201, logged.text
            raised = await ok(
                client,
                "POST",
                "/feedback/suggestions",
                headers=as_member(rep),
                json={"text": "希望增加安全培训", "category": "safety", "channel": "visit"},
            )
            for account in (
                {"username": "rep", "role": "member", "member_id": rep},
                {"username": "chair", "role": "admin"},
            ):
                await ok(client, "POST", "/roster/accounts", json=account | {"password": PASSWORD})
            await settled(client)

            await sign_in(client, "rep")
            mine = (await client.get("/my-contacts")).text
            words = text_of(mine)
            assert "本年度还剩 77 天，还需联系 3 人 5 次" in words
            assert words.count("已逾期 105 天") == 2  # due on 2 July, not contacted this year
            assert "（2026年7月2日）" in words
            assert "还剩 77 天" in words  # the worker contacted once owes one more by 31 Dec
            assert mine.count('data-due="overdue"') == 2
            header = mine.split('id="whoami"')[1].split("</summary>")[0]
            assert "张东峰" in header
            assert "工会代表" in header
            assert "rep" not in text_of(header)
            assert "职工代表" not in mine
            assert "下次应联系：" in words  # a full-width colon after Chinese
            listed = text_of((await client.get("/suggestions")).text)
            assert re.search(r"还剩 \d+ 天", listed)
            assert "内签收" not in listed
            assert "前签收" in listed
            page = (await client.get(f"/suggestions/{raised['suggestion_id']}")).text
            assert re.search(r"当前处理人：\s*<strong", page)
            assert "李卫国（全委会委员）" in text_of(page)
            record = (await client.get("/performance")).text
            assert re.search(r'data-figure="contacts_made">1<', record)
            assert re.search(r'data-method="visit">1<', record)
            assert re.search(r'data-figure="suggestions_raised">1<', record)
            assert "2026 年度履职情况" in text_of(record)
            client.cookies.set("sanlian_lang", "en")
            english = text_of((await client.get("/my-contacts")).text)
            assert "77 days left in the year; still to contact: 3 people, 5 contacts" in english
            assert english.count("105 days overdue") == 2
            assert "(2 Jul 2026)" in english
            client.cookies.delete("sanlian_lang")

            await sign_in(client, "chair")
            queue = (await client.get("/queue")).text
            assert "上报次数" in queue
            assert "距期限" in queue
            assert re.search(r"还剩 \d+ 天", text_of(queue))
            assert "已过时长（小时）" not in queue
            staff_view = text_of((await client.get(f"/directory/members/{rep}")).text)
            assert "工会代表" in staff_view
            assert "本年度还剩 77 天，还需联系 3 人 5 次" in staff_view
            assert staff_view.count("已逾期 105 天") == 2
            exposure = text_of((await client.get("/directory/exposure")).text)
            assert "超额与未结对人员" in exposure
            table = text_of((await client.get("/compliance")).text)
            assert "已逾期 105 天" in table  # the period is 2026, from the same clock
