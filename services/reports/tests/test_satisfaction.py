"""Satisfaction (满意度) and themes from real feedback events: workers rate answers through
the follow-up code, and the ratings show in the performance record of everyone who held the
suggestion and in the report per unit and per department; a scripted set of suggestions gives
the counts per unit and month the test computes (embedded default, the feedback tests' clock)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
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


async def test_themes_count_what_was_raised_per_unit_and_month(tmp_path: Path) -> None:
    settings = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))
    clock = MovableClock()  # 2 March 2026
    async with topology(settings, clock) as t:
        tree = await build_tree(t.roster)
        fb, rep = t.feedback, tree.representative
        link = (await fb.ok("POST", "/intake-links", rep, json={}))["link"]
        other = await t.roster.unit("平定县总工会", "county_union", tree.city)
        second = await t.roster.member(other, "representative", "李代表")
        await t.roster.link(tree.committee, second)
        script = [  # (who, category, days later)
            ("link", "safety", 0),
            ("link", "safety", 1),
            ("link", "wages_and_welfare", 2),
            (rep, "training", 3),  # for the worker, whose unit is the enterprise union
            (second, "safety", 31),  # in April, in the other county
            ("link", "safety", 32),
        ]
        expected_units: Counter[tuple[str, str]] = Counter()
        expected_months: Counter[tuple[str, str]] = Counter()
        start = clock.now
        for n, (who, category, days) in enumerate(script):
            clock.now = start + timedelta(days=days)
            text = f"建议{n}"
            if who == "link":
                sent = await fb.client.post(
                    f"/intake/{link['token']}/suggestions",
                    json={"text": text, "category": category},
                )
                assert sent.status_code == 201, sent.text
                unit = tree.enterprise
            elif who == rep:
                await fb.raise_(rep, text, category=category, on_behalf_of=tree.worker)
                unit = tree.enterprise
            else:
                await fb.raise_(who, text, category=category)
                unit = other
            expected_units[(unit, category)] += 1
            expected_months[(clock.now.strftime("%Y-%m"), category)] += 1

        app = reports_app(settings, clock)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://r", headers=STAFF
            ) as client:
                await settle(client)
                found = await get(client, "/themes", period="2026")
                units = {(r["key"], r["category"]): r["count"] for r in found["by_unit"]}
                months = {(r["key"], r["category"]): r["count"] for r in found["by_month"]}
                assert units == dict(expected_units)
                assert months == dict(expected_months)
                assert found["top"][0] == {"key": "", "category": "safety", "count": 4}
                assert (await get(client, "/themes", period="2025"))["top"] == []
