"""Notify reads the rule a clock started under from its event, on both backends: a warning
for a clock started under working days still counts working days after the settings change to
calendar days; the members acting for a department are warned a working day before its step's
deadline, and whoever assigned it is told when it lapses and comes back (超期)."""

from __future__ import annotations

from typing import Any

import pytest

from eventspine.config import Settings
from feedback_driver import MovableClock
from notify_driver import at, chain, member, notify_app
from reports_driver import city

pytestmark = pytest.mark.integration


async def test_warnings_count_in_the_unit_each_clock_started_under(
    backend: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANLIAN_FEEDBACK_DEADLINE_UNIT", "working")
    monkeypatch.setenv("SANLIAN_FEEDBACK_DEADLINE_UNIT_SINCE", "2026-09-01")
    monkeypatch.setenv("SANLIAN_FEEDBACK_DEPARTMENT_DAYS", "2")
    # Monday 28 September, 10:00: the representative's 3 working days end on 8 October, after
    # National Day; the department's 2 working days on Wednesday 30 September.
    clock = MovableClock(at(2026, 9, 28, 10))
    async with city(backend, clock) as c:
        federation, leader, _, rep, worker = await chain(c)
        clerk = await member(c, federation, "worker", "宣教部干事")
        await c.sync()
        fb = c.feedback
        await fb.ok(
            "POST", "/departments/training/members", str(leader), json={"member_id": str(clerk)}
        )
        # The worker raises it: held by the representative, their upper contact.
        await fb.raise_(str(worker), "井下班组希望增加安全培训")
        assigned = await fb.raise_(str(leader), "希望举办职工代表培训班")
        await fb.act(str(leader), assigned, "acknowledgement")
        await fb.act(str(leader), assigned, "assignment", department="training")

        # The federation goes back to calendar days: the waiting clocks keep their rule.
        monkeypatch.setenv("SANLIAN_FEEDBACK_DEADLINE_UNIT", "calendar")
        monkeypatch.delenv("SANLIAN_FEEDBACK_DEADLINE_UNIT_SINCE")
        async with notify_app(backend, clock) as n:

            async def of(who: Any, kind: str) -> list[dict[str, Any]]:
                return [i for i in (await n.of(who))["data"] if i["kind"] == kind]

            # Tuesday 29 September, 10:00: the department has one working day left.
            await n.tick(c, at(2026, 9, 29, 9, 59))
            assert await of(clerk, "suggestion_deadline") == []
            await n.tick(c, at(2026, 9, 29, 10, 1))
            [warned] = await of(clerk, "suggestion_deadline")
            assert warned["title"] == "交办的意见建议还剩 1 个工作日到期"
            assert warned["due_on"] == "2026-09-30"

            # Wednesday 30 September, 10:00: the representative's one working day before 8
            # October (in calendar days it would have been due on 1 October, warned today).
            await n.tick(c, at(2026, 9, 30, 10, 1))
            [rep_warned] = await of(rep, "suggestion_deadline")
            assert rep_warned["title"] == "意见建议还剩 1 个工作日将自动上报"
            assert rep_warned["due_on"] == "2026-10-08"

            # The department's deadline passes: the step goes back to the leader, who is told.
            c.clock.now = at(2026, 9, 30, 10)
            assert await fb.wired.scheduler.tick() == 1
            await n.tick(c, at(2026, 9, 30, 10, 5))
            back = [
                i
                for i in await of(leader, "suggestion_escalated")
                if i["title"] == "交办的意见建议超期未办结"
            ]
            assert len(back) == 1
            await n.tick(c, at(2026, 9, 30, 11))
            assert len(await of(clerk, "suggestion_deadline")) == 1  # warned once, no more
