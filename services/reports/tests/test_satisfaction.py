"""Satisfaction (满意度) and themes from real feedback events: workers rate answers through
the follow-up code, and the ratings show in the performance record of everyone who held the
suggestion and in the report per unit and per department; a scripted set of suggestions gives
the counts per unit, month and tag, against the year before, that the test computes (embedded
default, the feedback tests' clock)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from test_escalation_queue import get, settle

from eventspine.config import Settings
from feedback import tagging
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


async def test_themes_count_what_was_raised_per_unit_period_and_tag_against_the_year_before(
    tmp_path: Path,
) -> None:
    settings = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))
    clock = MovableClock()  # 2 March 2026
    async with topology(settings, clock) as t:
        tree = await build_tree(t.roster)
        fb, rep = t.feedback, tree.representative
        link = (await fb.ok("POST", "/intake-links", rep, json={}))["link"]
        other = await t.roster.unit("平定县总工会", "county_union", tree.city)
        second = await t.roster.member(other, "representative", "李代表")
        await t.roster.link(tree.committee, second)
        vocabulary = fb.wired.handlers.vocabulary
        # (who, category, days from 2 March 2026, text, tags chosen); no tags chosen: the
        # text's keywords suggest them. Negative days fall in 2025, the period before.
        script: list[tuple[str, str, int, str, list[str]]] = [
            ("link", "safety", -300, "井下通风差", []),
            ("link", "wages_and_welfare", -200, "食堂饭菜贵", []),
            ("link", "wages_and_welfare", -100, "食堂排队久", ["canteen", "overtime"]),
            ("link", "safety", 0, "井下通风差，粉尘大", []),
            ("link", "safety", 1, "安全帽不够", ["workplace_safety"]),
            ("link", "wages_and_welfare", 2, "食堂饭菜贵", []),
            (rep, "training", 3, "希望组织技能培训", []),  # for the worker (enterprise union)
            (second, "safety", 31, "瓦斯检测仪老旧", []),  # in April, in the other county
            ("link", "safety", 32, "谢谢工会", ["dormitory"]),
        ]
        start = clock.now
        expected: dict[str, Counter[Any]] = {
            k: Counter() for k in ("units", "months", "tags", "unit_tags", "before", "tags_before")
        }
        for n, (who, category, days, words, tags) in enumerate(script):
            clock.now = start + timedelta(days=days)
            text = f"{words}（{n}）"
            if who == "link":
                sent = await fb.client.post(
                    f"/intake/{link['token']}/suggestions",
                    json={"text": text, "category": category, "tags": tags},
                )
                assert sent.status_code == 201, sent.text
                unit = tree.enterprise
            elif who == rep:
                await fb.raise_(
                    rep,
                    text,
                    category=category,
                    on_behalf_of=tree.worker,
                    then="answer",
                    answer="已答复",
                )
                unit = tree.enterprise
            else:
                await fb.raise_(who, text, category=category, tags=tags)
                unit = other
            carried = tags or list(tagging.suggest(text, vocabulary))
            if days < 0:
                expected["before"][category] += 1
                expected["tags_before"].update(carried)
                continue
            expected["units"][(unit, category)] += 1
            expected["months"][(clock.now.strftime("%Y-%m"), category)] += 1
            expected["tags"].update(carried)
            expected["unit_tags"].update((unit, tag) for tag in carried)

        # An unknown tag is refused, naming the field, and nothing is stored.
        refused = await fb.client.post(
            f"/intake/{link['token']}/suggestions",
            json={"text": "新的建议", "category": "other", "tags": ["bribery"]},
        )
        assert refused.status_code == 422, refused.text
        assert (refused.json()["code"], refused.json()["field"]) == ("tag_unknown", "tags")

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
                assert units == dict(expected["units"])
                assert months == dict(expected["months"])
                assert found["previous_period"] == "2025"
                city = Counter[str]()
                for (_, category), count in expected["units"].items():
                    city[category] += count
                trend = {r["category"]: (r["count"], r["previous"]) for r in found["top"]}
                assert trend == {
                    c: (city[c], expected["before"][c]) for c in {*city, *expected["before"]}
                }
                assert found["top"][0]["category"] == "safety"
                tag_trend = {r["tag"]: (r["count"], r["previous"]) for r in found["top_tags"]}
                assert tag_trend == {
                    tag: (expected["tags"][tag], expected["tags_before"][tag])
                    for tag in {*expected["tags"], *expected["tags_before"]}
                }
                unit_tags = {(r["key"], r["tag"]): r["count"] for r in found["by_unit_tags"]}
                assert unit_tags == dict(expected["unit_tags"])
                # Examples: the latest few per theme, by id, all raised in the period.
                safety = [e for e in found["examples"] if e["theme"] == "category:safety"]
                assert len(safety) == min(3, city["safety"])
                assert [e["raised_at"] for e in safety] == sorted(
                    (e["raised_at"] for e in safety), reverse=True
                )
                assert all(e["raised_at"] >= "2026" for e in found["examples"])
                assert (await get(client, "/themes", period="2025"))["top_tags"] == [
                    {"key": "", "tag": t, "count": n, "previous": 0}
                    for t, n in sorted(expected["tags_before"].items(), key=lambda i: (-i[1], i[0]))
                ]
