"""What the pages say about contacts and the rule, in process (no browser): the contact card
marks withdrawn and corrected contacts, and each link says how many contacts it owes and why,
in Chinese and, on request, in English."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from test_frontend_access import PASSWORD, sign_in

from eventspine.config import Settings
from support.auth import STAFF
from web.embedded import create_app

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


async def ok(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> Any:
    answer = await client.request(method, url, headers=STAFF, **kw)
    assert answer.status_code in (200, 201), f"{method} {url}: {answer.text}"
    return answer.json()


async def member(client: httpx.AsyncClient, unit: str, tier: str, name: str, n: int) -> str:
    member_id = str(uuid.uuid4())
    body = {"member_id": member_id, "unit_id": unit, "tier": tier, "name": name}
    body |= {"external_number": f"R{n}", "registered_on": "2025-01-01"}
    await ok(client, "POST", "/roster/members", json=body)
    return member_id


async def contact(client: httpx.AsyncClient, rep: str, worker: str, on: str) -> str:
    """Log a contact once the contacts replica has the link."""
    contact_id = str(uuid.uuid4())
    body = {"contact_id": contact_id, "upper_member_id": rep, "lower_member_id": worker}
    body |= {"contacted_on": on, "method": "visit"}
    for _ in range(200):
        answer = await client.post("/contacts/contacts", headers=STAFF, json=body)
        if answer.status_code == 201:
            return contact_id
        await asyncio.sleep(0.05)
    raise AssertionError(answer.text)


async def test_the_card_marks_withdrawn_and_corrected_contacts_and_links_say_what_they_owe(
    tmp_path: Path,
) -> None:
    app = create_app(Settings(sqlite_dir=str(tmp_path)), clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sanlian") as client:
            unit = str(uuid.uuid4())
            await ok(
                client,
                "POST",
                "/roster/units",
                json={"unit_id": unit, "name": "阳泉市总工会", "kind": "city_federation"},
            )
            rep = await member(client, unit, "representative", "张东峰", 1)
            early = await member(client, unit, "worker", "王芳", 2)
            late = await member(client, unit, "worker", "赵强", 3)
            for lower, on in ((early, "2025-06-01"), (late, "2026-07-01")):
                body = {"upper_member_id": rep, "lower_member_id": lower, "assigned_on": on}
                await ok(client, "POST", "/roster/links", json=body)
            corrected = await contact(client, rep, early, "2026-03-01")
            withdrawn = await contact(client, rep, early, "2026-05-01")
            await ok(
                client,
                "POST",
                f"/contacts/contacts/{corrected}/correction",
                json={"contacted_on": "2026-03-02", "method": "phone", "reason": "日期记错"},
            )
            await ok(
                client,
                "POST",
                f"/contacts/contacts/{withdrawn}/retraction",
                json={"reason": "重复录入"},
            )
            links = await ok(client, "GET", f"/contacts/members/{rep}/links")
            link_of = {s["link"]["lower_member_id"]: s["link"]["link_id"] for s in links}
            for account in (
                {"username": "rep", "role": "member", "member_id": rep},
                {"username": "chair", "role": "admin"},
            ):
                await ok(client, "POST", "/roster/accounts", json=account | {"password": PASSWORD})
            for _ in range(200):  # the reports projections follow the stores
                if (await ok(client, "GET", "/reports/ready"))["events_behind"] == 0:
                    break
                await asyncio.sleep(0.05)

            await sign_in(client, "rep")
            card = (await client.get(f"/my-contacts/card/{link_of[early]}")).text
            assert card.count("已撤回") == 1
            assert card.count("已更正") == 1
            withdrawn_row = card.split(f'id="contact-{withdrawn}"')[1].split("</tr>")[0]
            assert 'class="retracted"' in card.split(f'id="contact-{withdrawn}"')[1][:30]
            assert "<s>2026年5月1日</s>" in withdrawn_row
            assert "已撤回" in withdrawn_row
            assert "原因：重复录入" in withdrawn_row
            corrected_row = card.split(f'id="contact-{corrected}"')[1].split("</tr>")[0]
            assert "已更正" in corrected_row
            assert "日期由 2026年3月1日 改为 2026年3月2日" in corrected_row
            assert "方式由 走访 改为 电话" in corrected_row
            assert "原因：日期记错" in corrected_row
            assert "已联系 1 次" in card  # the withdrawn one does not count
            assert "本年度应联系 2 次" in card

            mine = (await client.get("/my-contacts")).text
            assert "本年度应联系 1 次（7月1日起结对）" in mine
            assert "本年度应联系 2 次" in mine
            client.cookies.set("sanlian_lang", "en")
            english = (await client.get(f"/my-contacts/card/{link_of[late]}")).text
            assert "contacts owed this year: 1 (linked from 1 Jul)" in english
            english_card = (await client.get(f"/my-contacts/card/{link_of[early]}")).text
            assert "withdrawn" in english_card
            assert "corrected" in english_card
            client.cookies.delete("sanlian_lang")

            await sign_in(client, "chair")
            dashboard = (await client.get("/dashboard", params={"period": "2026"})).text
            assert "每年至少两次" not in dashboard
            assert "全年结对的，每年应至少联系 2 次" in dashboard
            assert "按结对天数折算应联系次数，至少 1 次" in dashboard
            table = (await client.get("/compliance", params={"period": "2026"})).text
            assert "2026 年度应联系 1 次（7月1日起结对）" in table
