"""Suggestions, on both backends: the holder is told when one arrives and the day before its
deadline ("还剩 1 天将自动上报"), the next holder when it is escalated, the raiser when it is
answered; each once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from eventspine.config import Settings
from feedback_driver import MovableClock
from notify_driver import at, chain, notify_app
from reports_driver import city

pytestmark = pytest.mark.integration


async def test_holders_and_raisers_are_told_each_step_once(backend: Settings) -> None:
    t0 = at(2026, 3, 2, 10)
    clock = MovableClock(t0)
    async with city(backend, clock) as c, notify_app(backend, clock) as n:
        _, leader, committee, rep, worker = await chain(c)
        await c.sync()
        fb = c.feedback
        # The worker raises it: held by the representative, their upper contact.
        sid = await fb.raise_(str(worker), "井下班组希望增加安全培训")

        def kinds(items: list[dict[str, Any]]) -> list[str]:
            return sorted(str(i["kind"]) for i in items if str(i["kind"]).startswith("sugg"))

        await n.tick(c, t0 + timedelta(minutes=1))
        [arrived] = [i for i in (await n.of(rep))["data"] if i["kind"] == "suggestion_arrived"]
        assert arrived["subject"] == sid
        assert arrived["title"] == "收到一条意见建议"
        assert sid in arrived["text"]

        # 3 days to acknowledge: on 4 March at 11:00 one day is left.
        await n.tick(c, t0 + timedelta(days=2, hours=1))
        await n.tick(c, t0 + timedelta(days=2, hours=2))  # not twice
        warned = [i for i in (await n.of(rep))["data"] if i["kind"] == "suggestion_deadline"]
        assert len(warned) == 1
        assert warned[0]["title"] == "意见建议还剩 1 天将自动上报"
        assert warned[0]["due_on"] == "2026-03-05"

        # The deadline passes: the feedback scheduler sends it to the committee member.
        c.clock.now = t0 + timedelta(days=3, hours=1)
        assert await fb.wired.scheduler.tick() == 1
        await n.tick(c, t0 + timedelta(days=3, hours=1, minutes=1))
        assert kinds((await n.of(committee))["data"]) == ["suggestion_escalated"]

        await fb.act(str(committee), sid, "acknowledgement")
        await fb.act(str(committee), sid, "answer", answer="市总工会将举办安全培训班。")
        await n.tick(c, t0 + timedelta(days=3, hours=2))
        await n.tick(c, t0 + timedelta(days=3, hours=3))
        assert kinds((await n.of(rep))["data"]) == ["suggestion_arrived", "suggestion_deadline"]
        assert kinds((await n.of(worker))["data"]) == ["suggestion_answered"]  # the raiser
        assert kinds((await n.of(committee))["data"]) == ["suggestion_escalated"]
        assert kinds((await n.of(leader))["data"]) == []
