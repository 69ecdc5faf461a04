"""The escalation queue, performance records and city overview from real feedback events.

Runs the embedded default (roster, feedback and reports on SQLite files in one folder) with
the feedback tests' movable clock, so deadlines pass without sleeping.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from eventspine.config import Settings
from feedback.settings import FeedbackSettings
from feedback_driver import MovableClock, build_tree, topology
from reports.main import create_app as reports_app
from support.auth import STAFF


async def settle(client: httpx.AsyncClient) -> None:
    for _ in range(400):
        if (await client.get("/ready")).json()["events_behind"] == 0:
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the reports projections did not catch up")


async def get(client: httpx.AsyncClient, url: str, **params: Any) -> Any:
    answer = await client.get(url, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_queue_shows_open_suggestions_by_urgency_with_levels_and_deadlines(
    tmp_path: Path,
) -> None:
    settings = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))
    clock = MovableClock()
    async with topology(settings, clock) as t:
        tree = await build_tree(t.roster)
        fb, rep, worker = t.feedback, tree.representative, tree.worker
        # The worker raises them (held by the representative, their upper contact).
        waiting = await fb.raise_(worker, "井下通风差", category="safety")
        relayed = await fb.raise_(worker, "培训职工代表")
        answered = await fb.raise_(worker, "食堂价格", category="other")
        await fb.act(rep, relayed, "acknowledgement")
        await fb.act(rep, relayed, "escalation", reason="需要上级协调")
        await fb.act(tree.committee, relayed, "acknowledgement")  # 10 days to answer now
        await fb.act(rep, answered, "acknowledgement")
        await fb.act(rep, answered, "answer", answer="已与食堂沟通")
        clock.advance(4)  # the representative's 3 days to acknowledge have passed
        assert await fb.wired.scheduler.tick() == 1  # `waiting` goes up by deadline
        clock.advance(1)

        app = reports_app(settings, clock)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://r", headers=STAFF
            ) as client:
                await settle(client)
                queue = await get(client, "/escalation-queue")
                assert queue["count"] == 2
                by_id = {item["suggestion_id"]: item for item in queue["data"]}
                assert set(by_id) == {waiting, relayed}
                for item in by_id.values():
                    assert (item["holder_id"], item["level"], item["escalations"]) == (
                        tree.committee,
                        1,
                        1,
                    )
                # Escalated on day 4, 3 days to acknowledge; relayed on day 0, 10 to answer.
                assert (by_id[waiting]["deadline"], by_id[waiting]["hours_to_deadline"]) == (
                    "acknowledge",
                    48.0,
                )
                assert (by_id[relayed]["deadline"], by_id[relayed]["hours_to_deadline"]) == (
                    "answer",
                    120.0,
                )
                assert [i["suggestion_id"] for i in queue["data"]] == [waiting, relayed]
                assert queue["overdue"] == 0
                clock.advance(3)  # no scheduler ran: the queue shows it overdue
                later = await get(client, "/escalation-queue")
                assert [(i["suggestion_id"], i["hours_to_deadline"]) for i in later["data"]] == [
                    (waiting, -24.0),
                    (relayed, 48.0),
                ]
                assert later["overdue"] == 1
                assert (await get(client, "/escalation-queue", level=0))["count"] == 0
                in_unit = await get(client, "/escalation-queue", unit_id=tree.county)
                assert in_unit["count"] == 2
                elsewhere = await client.get("/escalation-queue", params={"level": -1})
                assert elsewhere.status_code == 422

                records = await get(client, "/performance", period="2026")
                mine = next(r for r in records if r["member_id"] == rep)
                assert (
                    mine["suggestions_raised"],
                    mine["suggestions_relayed"],
                    mine["suggestions_answered"],
                ) == (0, 1, 1)  # he held them; the worker raised them (the overview's 3)
                overview = await get(client, "/overview", period="2026")
                assert (
                    overview["suggestions_raised"],
                    overview["suggestions_answered"],
                    overview["suggestions_resolved"],
                ) == (3, 1, 0)
                # By the level each stands at now, and by department (none assigned yet).
                assert overview["by_level"] == [
                    {"key": "0", "raised": 1, "answered": 1, "resolved": 0},
                    {"key": "1", "raised": 2, "answered": 0, "resolved": 0},
                ]
                assert overview["by_department"] == [
                    {"key": None, "raised": 3, "answered": 1, "resolved": 0}
                ]
                assert overview["linked_members"] == {
                    "committee": 1,
                    "representative": 1,
                    "worker": 1,
                }
                earlier = await get(client, "/overview", period="2025")
                assert earlier["suggestions_raised"] == 0  # raised in 2026, not 2025
                exported = await client.get("/escalation-queue/export", params={"format": "xlsx"})
                assert exported.content[:2] == b"PK"  # an XLSX (zip) workbook


async def test_a_department_step_shows_its_deadline_and_stays_overdue_back_with_its_assigner(
    tmp_path: Path,
) -> None:
    settings = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))
    clock = MovableClock()
    config = FeedbackSettings(_env_file=None, scheduler_enabled=False, department_days=2)
    async with topology(settings, clock, config) as t:
        tree = await build_tree(t.roster)
        fb = t.feedback
        clerk = await t.roster.member(tree.city, "worker", "宣教部干事")
        await fb.ok("POST", "/departments/training/members", tree.leader, json={"member_id": clerk})
        sid = await fb.raise_(tree.leader, "希望举办职工代表培训班")
        await fb.act(tree.leader, sid, "acknowledgement")
        await fb.act(tree.leader, sid, "assignment", department="training")

        app = reports_app(settings, clock)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://r", headers=STAFF
            ) as client:

                async def item() -> tuple[Any, ...]:
                    await settle(client)
                    queue = await get(client, "/escalation-queue")
                    (only,) = [i for i in queue["data"] if i["suggestion_id"] == sid]
                    return (
                        only["status"],
                        only["deadline"],
                        only["hours_to_deadline"],
                        queue["overdue"],
                    )

                # 2 days for the department's outcome.
                assert await item() == ("assigned", "department", 48.0, 0)
                clock.advance(3)
                assert await fb.wired.scheduler.tick() == 1  # the step lapsed: back up
                # With the leader again, still overdue by the department's deadline.
                assert await item() == ("acknowledged", "department_overdue", -24.0, 1)
                # The leader urges the department: assigned again, a fresh deadline.
                await fb.act(tree.leader, sid, "assignment", department="training")
                assert await item() == ("assigned", "department", 48.0, 0)
