"""The embedded default: every service in one process on SQLite, from a link to compliance."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from eventspine.config import Settings
from support.auth import STAFF
from web.embedded import create_app


def clock() -> datetime:
    return datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def ok(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> Any:
    answer = await client.request(method, url, **kw)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


async def test_a_contact_logged_in_one_process_reaches_the_compliance_view(tmp_path: Path) -> None:
    app = create_app(Settings(sqlite_dir=str(tmp_path)), clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sanlian", headers=STAFF
        ) as client:
            unit = str(uuid.uuid4())
            await ok(
                client,
                "POST",
                "/roster/units",
                json={"unit_id": unit, "name": "阳泉市总工会", "kind": "city_federation"},
            )
            rep, worker = str(uuid.uuid4()), str(uuid.uuid4())
            for member, tier, number in ((rep, "representative", "1"), (worker, "worker", "2")):
                await ok(
                    client,
                    "POST",
                    "/roster/members",
                    json={
                        "member_id": member,
                        "unit_id": unit,
                        "tier": tier,
                        "name": "张东峰",
                        "external_number": number,
                        "registered_on": "2025-01-01",
                    },
                )
            await ok(
                client,
                "POST",
                "/roster/links",
                json={
                    "upper_member_id": rep,
                    "lower_member_id": worker,
                    "assigned_on": "2025-02-01",
                },
            )
            for day in ("2026-03-01", "2026-09-01"):
                await ok(
                    client,
                    "POST",
                    "/contacts/contacts",
                    json={
                        "upper_member_id": rep,
                        "lower_member_id": worker,
                        "contacted_on": day,
                        "method": "meeting",
                    },
                )
            for _ in range(200):
                if (await ok(client, "GET", "/reports/ready"))["events_behind"] == 0:
                    break
                await asyncio.sleep(0.05)
            report = await ok(client, "GET", "/reports/compliance", params={"period": "2026"})
            assert report["city"]["met"] == 1
            assert report["city"]["links"] == 1
            months = await ok(
                client, "GET", "/reports/compliance/monthly", params={"period": "2026"}
            )
            # Month by month up to the clock's November: none, then one contact, then both.
            standing = {m["month"]: m["tally"] for m in months}
            assert list(standing) == [f"2026-{n:02d}" for n in range(1, 12)]
            assert standing["2026-02"]["none"] == 1
            assert standing["2026-08"]["behind"] == 1
            assert standing["2026-09"]["met"] == 1
            assert standing["2026-11"]["compliance_pct"] == 100.0
            verified = await client.get("/audit/verify", params={"source": "stores"})
            assert verified.status_code == 200, verified.text
            assert verified.json()["ok"] is True, verified.text
            history = await client.get("/audit/history", params={"member": worker})
            assert history.status_code == 200, history.text
            assert len(history.json()) >= 2  # registered, linked (and contacted)
