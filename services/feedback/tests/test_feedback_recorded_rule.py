"""The rule a holder's clock started under travels in the event that starts it, on both
backends: a clock started under working days keeps its deadline (shown, escalated, rebuilt)
after the settings change to calendar days; an event of the version before rules were recorded
is upcast and counts as it did; a department's step past its deadline goes back to whoever
assigned it (超期), who assigns it again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from contracts.feedback import SuggestionRaisedV1
from eventspine.config import Settings
from eventspine.projection import deliver
from eventspine.store.base import CommandContext
from feedback.handlers import suggestion_stream
from feedback.projections import FeedbackProjection
from feedback.settings import FeedbackSettings
from feedback_driver import MovableClock, Topology, Tree, build_tree, topology

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKING = FeedbackSettings(
    _env_file=None,
    scheduler_enabled=False,
    deadline_unit="working",
    deadline_unit_since=date(2026, 9, 30),
    department_days=2,
)
CALENDAR = FeedbackSettings(_env_file=None, scheduler_enabled=False, department_days=2)

Start = Callable[[FeedbackSettings], AbstractAsyncContextManager[Topology]]
Working = tuple[Topology, Tree, MovableClock]


def beijing(month: int, day: int, hour: int = 9) -> datetime:
    """A moment of the federation's day, in UTC as the events carry it."""
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


def shown(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(params=["full", "embedded"])
def start(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Start, MovableClock]:
    """Start the apps on one backend with given feedback settings (again and again, on the
    same stores: a restart with other settings)."""
    if request.param == "full":
        settings: Settings = request.getfixturevalue("full_settings")
    else:
        settings = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))
    clock = MovableClock(beijing(9, 30))

    def run(config: FeedbackSettings) -> AbstractAsyncContextManager[Topology]:
        return topology(settings, clock, config)

    return run, clock


@pytest.fixture
async def working(start: tuple[Start, MovableClock]) -> AsyncIterator[Working]:
    """The apps started under working-day deadlines, with a tree built; and their clock."""
    run, clock = start
    async with run(WORKING) as running:
        yield running, await build_tree(running.roster), clock


def ticker(running: Topology) -> Callable[[datetime], Awaitable[int]]:
    """The scheduler's tick at a moment the clock moves to (what it appends is recorded then)."""

    async def tick_at(moment: datetime) -> int:
        running.clock.now = moment
        return int(await running.feedback.wired.scheduler.tick())

    return tick_at


async def rebuilt_due(running: Topology, suggestion_id: str) -> datetime | None:
    """The deadline a view rebuilt from every event, under today's settings, shows."""
    wired = running.feedback.wired
    view = FeedbackProjection(
        wired.handlers.vault,
        wired.settings.deadline_policy(),
        wired.queries.p,
        wired.settings.department_days,
    )
    reader = wired.queries.reader
    await view.reset(reader)
    for record in await wired.store.read_all(0, 10_000):
        if record.stream_id.startswith("suggestion-"):
            await view.apply(reader, deliver(record, wired.store.registry))
    return shown((await running.feedback.get(suggestion_id))["due_at"])


async def test_a_working_day_clock_keeps_its_deadline_after_the_settings_change(
    start: tuple[Start, MovableClock],
) -> None:
    run, clock = start
    async with run(WORKING) as running:
        tree = await build_tree(running.roster)
        # Wednesday 30 September 09:00: 3 working days are 8, 9 and 10 October.
        sid = await running.feedback.raise_(tree.representative, "矿井通风不好")
        assert shown((await running.feedback.get(sid))["due_at"]) == beijing(10, 10)
        stored = (await running.feedback.wired.store.read_stream(f"suggestion-{sid}"))[0]
        assert stored.schema_version == 2
        assert stored.data["deadline"]["unit"] == "working"
        assert stored.data["deadline"]["acknowledge_days"] == 3
        assert shown(stored.data["deadline"]["acknowledge_by"]) == beijing(10, 10)

    # The federation goes back to calendar days: new clocks count them, this one does not.
    clock.now = beijing(10, 2)
    async with run(CALENDAR) as running:
        fb = running.feedback
        tick = ticker(running)
        assert shown((await fb.get(sid))["due_at"]) == beijing(10, 10)
        later = await fb.raise_(tree.representative, "食堂饭菜价格偏高")
        assert shown((await fb.get(later))["due_at"]) == beijing(10, 5)  # 3 calendar days
        # A replay into a fresh view, under today's settings, gives the same deadlines.
        assert await rebuilt_due(running, sid) == beijing(10, 10)
        assert shown((await fb.get(later))["due_at"]) == beijing(10, 5)

        assert await tick(beijing(10, 5)) == 1  # the calendar-day one only
        assert (await fb.get(sid))["holder_id"] == tree.committee
        assert (await fb.get(later))["holder_id"] == tree.leader
        assert await tick(beijing(10, 9, 18)) == 0
        # Its working days are over (and the other's 5 calendar days at the leader).
        assert await tick(beijing(10, 10)) == 2
        assert (await fb.get(later))["holder_id"] is None
        moved = await fb.get(sid)
        assert moved["holder_id"] == tree.leader
        assert moved["timeline"][-1]["reason"] == "deadline"
        # The leader's clock started under calendar days: 5 of them, recorded as such.
        escalated = (await fb.wired.store.read_stream(f"suggestion-{sid}"))[-1]
        assert escalated.data["deadline"]["unit"] == "calendar"
        assert shown(moved["due_at"]) == beijing(10, 15)


async def test_an_event_of_the_first_version_is_upcast_and_counts_as_it_did(
    working: Working,
) -> None:
    running, tree, _ = working
    wired = running.feedback.wired
    sid = uuid.uuid4()
    # Recorded by the code before rules were recorded: version 1, no deadline in it.
    text = await wired.handlers.vault.seal(sid, {"text": "希望增加技能培训名额"})
    old = SuggestionRaisedV1(
        suggestion_id=sid,
        raised_by=uuid.UUID(tree.worker),
        category="training",
        channel="meeting",
        text=text,
        holder_id=uuid.UUID(tree.representative),
        holder_tier="representative",
        route="upper_contact",
    )
    ctx = CommandContext(actor=f"member:{tree.worker}")
    await wired.store.append(suggestion_stream(sid), 0, [old], ctx)
    stored = (await wired.store.read_stream(suggestion_stream(sid)))[0]
    assert (stored.schema_version, "deadline" in stored.data) == (1, False)
    decoded = wired.store.registry.decode("SuggestionRaised", 1, stored.data)
    assert decoded.event_version == 2
    assert decoded.deadline == "unrecorded"  # type: ignore[attr-defined]
    await wired.catch_up()
    tick = ticker(running)

    # Started on the day working days took effect: it counts them, as version 1 did.
    seen = await running.feedback.get(str(sid))
    assert shown(seen["due_at"]) == beijing(10, 10)
    assert await rebuilt_due(running, str(sid)) == beijing(10, 10)
    assert await tick(beijing(10, 9, 18)) == 0
    assert await tick(beijing(10, 10)) == 1
    assert (await running.feedback.get(str(sid)))["holder_id"] == tree.committee


async def test_a_department_step_past_its_deadline_goes_back_to_its_assigner(
    working: Working,
) -> None:
    running, tree, clock = working
    fb = running.feedback
    tick = ticker(running)
    clerk = await running.roster.member(tree.city, "worker", "宣教部干事")
    await fb.ok("POST", "/departments/training/members", tree.leader, json={"member_id": clerk})
    sid = await fb.raise_(tree.leader, "希望举办职工代表培训班")
    await fb.act(tree.leader, sid, "acknowledgement")
    await fb.act(tree.leader, sid, "assignment", department="training")
    # 2 working days from Wednesday 30 September: 8 and 9 October (after National Day).
    waiting = (await fb.ok("GET", "/departments/training/inbox"))["data"]
    assert [(s["due_kind"], shown(s["due_at"])) for s in waiting] == [
        ("department", beijing(10, 9))
    ]
    assigned = (await fb.wired.store.read_stream(f"suggestion-{sid}"))[-1]
    assert (assigned.event_type, assigned.schema_version) == ("SuggestionAssigned", 2)
    assert assigned.data["deadline"]["unit"] == "working"
    await fb.act(clerk, sid, "taking-up")

    assert await tick(beijing(10, 8, 18)) == 0
    assert await tick(beijing(10, 9)) == 1
    assert await tick(beijing(10, 9, 10)) == 0  # once
    back = await fb.get(sid)
    assert (back["status"], back["due_kind"], back["due_at"]) == (
        "acknowledged",
        "department_overdue",
        None,
    )
    step = back["timeline"][-1]
    assert (step["type"], step["reason"], step["department"]) == (
        "SuggestionDepartmentOverdue",
        "department_overdue",
        "training",
    )
    lapsed = (await fb.wired.store.read_stream(f"suggestion-{sid}"))[-1]
    assert lapsed.data["assigned_by"] == tree.leader
    assert lapsed.data["taken_up"] is True
    assert (await fb.ok("GET", "/departments/training/inbox"))["count"] == 0
    holder = back["holder_id"]
    inbox = "/federation/inbox" if holder is None else f"/members/{holder}/inbox"
    first = (await fb.ok("GET", inbox))["data"][0]
    assert (first["suggestion_id"], first["due_kind"]) == (sid, "department_overdue")
    # Nothing escalates it meanwhile, however long the leader takes.
    assert await tick(beijing(12, 1)) == 0

    # The leader urges the department: assigned again, a fresh step and deadline.
    clock.now = beijing(12, 1)
    await fb.act(tree.leader, sid, "assignment", department="training")
    again = await fb.get(sid)
    assert (again["status"], again["due_kind"]) == ("assigned", "department")
    assert shown(again["due_at"]) == beijing(12, 3)
    assert (await fb.ok("GET", f"/suggestions/{sid}/taken-up"))["taken_up_by"] is None
    await fb.act(clerk, sid, "taking-up")  # the new step is taken up anew
    assert (await fb.ok("GET", f"/suggestions/{sid}/taken-up"))["taken_up_by"] == clerk
    await fb.act(clerk, sid, "resolution", outcome="举办首期职工代表培训班")
    assert (await fb.get(sid))["status"] == "resolved"


async def test_a_workers_suggestion_and_a_rating_that_reopens_record_their_clocks(
    working: Working,
) -> None:
    running, tree, clock = working
    fb = running.feedback
    link = (await fb.ok("POST", "/intake-links", tree.representative, json={}))["link"]
    sent = await fb.client.post(
        f"/intake/{link['token']}/suggestions",
        json={"text": "更衣室没有热水", "category": "safety"},
        headers={"Authorization": ""},
    )
    assert sent.status_code == 201, sent.text
    code = sent.json()["follow_up_code"]
    [waiting] = (await fb.ok("GET", f"/members/{tree.representative}/inbox"))["data"]
    sid = waiting["suggestion_id"]
    assert shown(waiting["due_at"]) == beijing(10, 10)
    await fb.act(tree.representative, sid, "acknowledgement")
    await fb.act(tree.representative, sid, "answer", answer="已报后勤处理。")
    # Friday 9 October: not solved, reopened; 3 working days are 10, 12 and 13 October.
    clock.now = beijing(10, 9)
    await fb.ok(
        "POST", f"/follow-up/{code}/rating", json={"rating": "dissatisfied", "reopen": True}
    )
    assert shown((await fb.get(sid))["due_at"]) == beijing(10, 13)
    events = await fb.wired.store.read_stream(f"suggestion-{sid}")
    clocks = [
        (e.event_type, e.schema_version, e.data["deadline"]["unit"])
        for e in events
        if e.data.get("deadline")
    ]
    assert clocks == [
        ("SuggestionReceived", 2, "working"),
        ("SuggestionRated", 2, "working"),
    ]
