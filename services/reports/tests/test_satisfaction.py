"""Satisfaction (满意度) from real feedback events: workers rate answers through the follow-up
code, and the ratings show in the performance record of everyone who held the suggestion and
in the report per unit and per department (embedded default, the feedback tests' clock)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from test_escalation_queue import get, settle

from eventspine.config import Settings
from feedback_driver import MovableClock, build_tree, topology
from reports.main import create_app as reports_app
from support.auth import STAFF


async def worker_suggestion(t: Any, token: str, text: str) -> tuple[str, str]:
    """A worker's suggestion by a link: its id (from the holder's inbox) and follow-up code."""
    fb = t.feedback
    sent = await fb.client.post(
        f"/intake/{token}/suggestions", json={"text": text, "category": "wages_and_welfare"}
    )
    assert sent.status_code == 201, sent.text
    code = sent.json()["follow_up_code"]
    sid = await fb.wired.intake_handlers.suggestion_of(code)
    return str(sid), code


async def test_ratings_reach_the_holders_records_and_the_unit_and_department_reports(
    tmp_path: Path,
) -> None:
    settings = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))
    clock = MovableClock()
    async with topology(settings, clock) as t:
        tree = await build_tree(t.roster)
        fb, rep = t.feedback, tree.representative
        link = (await fb.ok("POST", "/intake-links", rep, json={}))["link"]
        ratings = ["satisfied", "basically_satisfied", "dissatisfied"]
        for n, rating in enumerate(ratings):
            sid, code = await worker_suggestion(t, link["token"], f"加班费计算不清楚（{n}）")
            await fb.act(rep, sid, "acknowledgement")
            await fb.act(rep, sid, "answer", answer="已向企业工会核实。")
            await fb.ok("POST", f"/follow-up/{code}/rating", json={"rating": rating})
        # One climbs to the leadership, goes to a department, and is rated after its outcome.
        sid, code = await worker_suggestion(t, link["token"], "希望增加技能培训名额")
        await fb.act(rep, sid, "acknowledgement")
        await fb.act(rep, sid, "escalation", reason="需要上级统筹")
        await fb.act(tree.committee, sid, "acknowledgement")
        await fb.act(tree.committee, sid, "escalation", reason="需要市总工会安排")
        await fb.act(tree.leader, sid, "acknowledgement")
        await fb.act(tree.leader, sid, "assignment", department="training")
        await fb.act(tree.leader, sid, "resolution", outcome="增开两期培训班")
        await fb.ok("POST", f"/follow-up/{code}/rating", json={"rating": "satisfied"})

        app = reports_app(settings, clock)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://r", headers=STAFF
            ) as client:
                await settle(client)
                records = {
                    r["member_id"]: r for r in await get(client, "/performance", period="2026")
                }
                mine = records[rep]
                assert mine["ratings"] == {
                    "satisfied": 2,
                    "basically_satisfied": 1,
                    "dissatisfied": 1,
                }
                assert mine["satisfied_pct"] == 75.0
                assert records[tree.committee]["ratings"]["satisfied"] == 1
                assert records[tree.committee]["satisfied_pct"] == 100.0

                units = await get(client, "/satisfaction", period="2026", by="unit")
                assert [(u["key"], u["rated"], u["satisfied_pct"]) for u in units] == [
                    (tree.enterprise, 4, 75.0)
                ]
                departments = await get(client, "/satisfaction", period="2026", by="department")
                assert [(d["key"], d["rated"]) for d in departments] == [("training", 1)]
                before = await get(client, "/satisfaction", period="2025", by="unit")
                assert before == []
