"""The workers' pages in process (no browser), on the embedded app: a client address that
sends too many suggestions is stopped before the services are asked, oversized text is
refused beside its field, a forged token gets the plain Chinese page, and a suggestion set
aside as spam says so, with the reason, on the follow-up page. Nothing is stored on refusal."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.routing import Mount

from eventspine.config import Settings
from support.auth import STAFF, as_member
from web.embedded import create_app
from web.frontend.routes.voice import AddressLimiter


def clock() -> datetime:
    return datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def test_the_address_limiter_counts_a_sliding_window() -> None:
    limiter = AddressLimiter(limit=2, window=60)
    assert limiter.allow("10.0.0.1", now=0)
    assert limiter.allow("10.0.0.1", now=10)
    assert not limiter.allow("10.0.0.1", now=20)
    assert limiter.allow("10.0.0.2", now=20)  # another address has its own budget
    assert limiter.allow("10.0.0.1", now=61)  # the first one left the window


async def test_limits_refusals_and_spam_on_the_workers_pages(tmp_path: Path) -> None:
    app = create_app(Settings(sqlite_dir=str(tmp_path)), clock)
    async with app.router.lifespan_context(app):
        # The frontend is mounted last, at the root; a tighter budget than the default.
        frontend = next(r for r in app.routes if isinstance(r, Mount) and r.path == "").app
        assert isinstance(frontend, FastAPI)
        frontend.state.voice_limiter = AddressLimiter(limit=5, window=600)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sanlian") as client:
            unit = str(uuid.uuid4())
            await client.post(
                "/roster/units",
                headers=STAFF,
                json={"unit_id": unit, "name": "阳泉市总工会", "kind": "city_federation"},
            )
            rep = str(uuid.uuid4())
            made = await client.post(
                "/roster/members",
                headers=STAFF,
                json={
                    "member_id": rep,
                    "unit_id": unit,
                    "tier": "representative",
                    "name": "张东峰",
                    "external_number": "R1",
                },
            )
            assert made.status_code == 201, made.text
            for _ in range(50):  # the feedback replica follows the roster
                issued = await client.post(
                    "/feedback/intake-links", json={}, headers=as_member(rep)
                )
                if issued.status_code == 201:
                    break
            assert issued.status_code == 201, issued.text
            token = issued.json()["link"]["token"]

            async def inbox() -> int:
                answer = await client.get(f"/feedback/members/{rep}/inbox", headers=STAFF)
                count: int = answer.json()["count"]
                return count

            form = await client.get(f"/v/{token}")
            assert form.status_code == 200
            assert "<script" not in form.text  # works with JavaScript off
            fields = {"csrf_token": csrf(form.text), "category": "other"}

            huge = await client.post(f"/v/{token}", data={**fields, "text": "长" * 2001})
            assert 'id="text-error"' in huge.text
            assert "最多 2,000 个字符。" in huge.text  # the limit, in words
            assert await inbox() == 0

            codes = []
            for n in range(4):  # with the oversized one: five from this address
                sent = await client.post(f"/v/{token}", data={**fields, "text": f"建议{n}"})
                assert "已收到" in sent.text
                found = re.search(r'href="/f/([A-Z0-9]+)"', sent.text)
                assert found
                codes.append(found.group(1))
            stopped = await client.post(f"/v/{token}", data={**fields, "text": "建议5"})
            assert "尝试次数过多，请稍候再试。" in stopped.text
            assert await inbox() == 4

            forged = await client.get(f"/v/{token[:-4]}AAAA")
            assert forged.status_code == 404
            assert "此链接无效" in forged.text
            assert "Traceback" not in forged.text

            waiting = (await client.get(f"/feedback/members/{rep}/inbox", headers=STAFF)).json()[
                "data"
            ]
            spam = next(s for s in waiting if s["text"] == "建议0")["suggestion_id"]
            marked = await client.post(
                f"/feedback/suggestions/{spam}/setting-aside",
                json={"mark": "spam", "reason": "测试内容"},
                headers=as_member(rep),
            )
            assert marked.status_code == 200, marked.text
            page = await client.get(f"/f/{codes[0]}")
            assert "不予办理：此内容与工会工作无关（垃圾信息）。" in page.text
            assert "测试内容" in page.text
