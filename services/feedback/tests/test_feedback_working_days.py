"""Deadlines in working days: across 2026's National Day holiday (1–7 October) and the make-up
Saturday after it (10 October), the scheduler escalates on the day the official calendar says,
not before, on both backends; a clock started before the change keeps its calendar days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from eventspine.config import Settings
from feedback.settings import FeedbackSettings
from feedback_driver import MovableClock, Topology, build_tree, topology

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Working days from the day the federation changed its rule (a Wednesday, the holiday's eve).
CONFIG = FeedbackSettings(
    _env_file=None,
    scheduler_enabled=False,
    deadline_unit="working",
    deadline_unit_since=date(2026, 9, 30),
)


def beijing(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment of the federation's day, in UTC as the events carry it."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.integration
async def test_on_postgres_a_working_day_deadline_escalates_on_the_day_the_calendar_says(
    full_settings: Settings,
) -> None:
    async with topology(full_settings, MovableClock(beijing(9, 29)), CONFIG) as running:
        await escalates_on_the_day_the_calendar_says(running)


async def test_embedded_a_working_day_deadline_escalates_on_the_day_the_calendar_says(
    tmp_path: Path,
) -> None:
    settings = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))
    async with topology(settings, MovableClock(beijing(9, 29)), CONFIG) as running:
        await escalates_on_the_day_the_calendar_says(running)


async def escalates_on_the_day_the_calendar_says(running: Topology) -> None:
    """The story both backends run."""
    tree = await build_tree(running.roster)
    fb, clock = running.feedback, running.clock
    scheduler = fb.wired.scheduler

    async def tick_at(moment: datetime) -> int:
        clock.now = moment
        return int(await scheduler.tick())

    # Tuesday 29 September, before the change: 3 calendar days, as before.
    before = await fb.raise_(tree.representative, "食堂饭菜价格偏高")
    # Wednesday 30 September, 09:00: 3 working days are 8, 9 and 10 October (a make-up Saturday).
    clock.now = beijing(9, 30)
    after = await fb.raise_(tree.representative, "矿井通风不好", category="safety")
    assert (await fb.get(before))["due_at"] == beijing(10, 2).isoformat().replace("+00:00", "Z")
    shown = datetime.fromisoformat((await fb.get(after))["due_at"].replace("Z", "+00:00"))
    assert shown == beijing(10, 10)  # the deadline shown is the scheduler's

    # Friday 2 October: the old suggestion's calendar days are over; the new one's are not.
    assert await tick_at(beijing(10, 2)) == 1
    assert (await fb.get(before))["holder_id"] == tree.leader
    assert (await fb.get(after))["holder_id"] == tree.committee
    # Nothing more during the holiday, nor on the first two working days after it.
    for moment in (beijing(10, 5), beijing(10, 7, 23, 59), beijing(10, 9, 18), beijing(10, 10, 8)):
        assert await tick_at(moment) == 0, moment
    # Saturday 10 October, a working day by the calendar, 09:00: escalated.
    assert await tick_at(beijing(10, 10)) == 1
    moved = await fb.get(after)
    assert moved["holder_id"] == tree.leader
    step = moved["timeline"][-1]
    assert (step["type"], step["reason"]) == ("SuggestionEscalated", "deadline")

    # The old suggestion's new clock at the leader started after the change: 5 working days
    # from 2 October are 8, 9, 10, 12 and 13 October.
    assert await tick_at(beijing(10, 12, 23)) == 0
    assert await tick_at(beijing(10, 13)) == 1
    assert (await fb.get(before))["holder_id"] is None  # the federation leadership, the top
    assert (await fb.get(after))["holder_id"] == tree.leader  # its 5 run to 16 October
