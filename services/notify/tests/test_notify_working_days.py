"""Deadlines in working days, on both backends: the holder's warning comes one working day
before the deadline and says so ("还剩 1 个工作日将自动上报"), the calendar feed's alarm rings
then, and the feedback scheduler escalates on the day the official calendar says."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import icalendar
import pytest

from eventspine.config import Settings
from feedback_driver import MovableClock
from notify_driver import at, chain, notify_app
from reports_driver import city
from support.auth import as_member

pytestmark = pytest.mark.integration


async def test_the_warning_and_the_escalation_count_working_days(
    backend: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both services read the same settings: the feedback service's deadlines are notify's.
    monkeypatch.setenv("SANLIAN_FEEDBACK_DEADLINE_UNIT", "working")
    monkeypatch.setenv("SANLIAN_FEEDBACK_DEADLINE_UNIT_SINCE", "2026-09-01")
    # Monday 28 September, 10:00: the representative's 3 working days are 29 and 30 September
    # and 8 October, after National Day (1–7 October).
    t0 = at(2026, 9, 28, 10)
    clock = MovableClock(t0)
    async with city(backend, clock) as c, notify_app(backend, clock) as n:
        _, _, committee, rep, worker = await chain(c)
        await c.sync()
        fb = c.feedback
        # The worker raises it: held by the representative, their upper contact.
        sid = await fb.raise_(str(worker), "井下班组希望增加安全培训")

        async def warnings() -> list[dict[str, Any]]:
            return [i for i in (await n.of(rep))["data"] if i["kind"] == "suggestion_deadline"]

        await n.tick(c, at(2026, 9, 30, 9, 59))
        assert await warnings() == []
        # Wednesday 30 September, 10:00: one working day is left, the last before the holiday.
        await n.tick(c, at(2026, 9, 30, 10, 1))
        await n.tick(c, at(2026, 10, 7, 11))  # not again on the holiday's last day
        [warned] = await warnings()
        assert warned["title"] == "意见建议还剩 1 个工作日将自动上报"
        assert warned["due_on"] == "2026-10-08"

        # The calendar feed's alarm rings when the warning comes: 8 days before 8 October.
        issued = await n.http.post("/me/calendar", headers=as_member(str(rep)))
        assert issued.status_code == 201, issued.text
        body = (await n.http.get(issued.json()["path"])).content
        [event] = [
            e
            for e in icalendar.Calendar.from_ical(body).walk("VEVENT")
            if str(e["uid"]).startswith(f"suggestion-{sid}")
        ]
        assert event.decoded("dtstart") == at(2026, 10, 8, 10)
        [alarm] = event.walk("VALARM")
        assert alarm.decoded("trigger") == -timedelta(days=8)
        assert str(alarm["description"]) == "还剩 1 个工作日将自动上报"

        # The feedback scheduler: not during the holiday, on 8 October at 10:00.
        c.clock.now = at(2026, 10, 7, 23, 59)
        assert await fb.wired.scheduler.tick() == 0
        c.clock.now = at(2026, 10, 8, 10)
        assert await fb.wired.scheduler.tick() == 1
        assert (await fb.get(sid))["holder_id"] == str(committee)
