"""Acceptance of the reports: a scripted year for a Yangquan-sized roster gives exactly the
compliance and queue figures this test counts from its own script, and events delivered twice
(or read again after a restart, or replayed by a rebuild) change no figure.

The script
==========

Roster (the 2019 Yangquan figures): 1 city federation (市总) with 4 county unions, each with 2
enterprise unions; 10 leaders in the city, 59 committee members in the counties (member ``c``
in county ``c % 4``), 300 representatives and 3,000 workers in the enterprises
(representative ``r`` in enterprise ``r % 8``, worker ``w`` with representative ``w % 300``,
in their representative's enterprise). Lower member ``i`` of a tier is linked to upper
``i % uppers`` on 1 June 2025, spans over target with an override reason:
59 + 300 + 3,000 = 3,359 links. Status is counted per lower member's unit and its parents.

Contacts in 2026, per link, by its index ``i`` in that order (leader links first): ``i % 3``
gives both contacts (met), one (behind) or none, except for the special links in
``SPECIAL``, each of which says what the rule must make of it and why: a retraction, a
correction out of 2026 and one into it, a contact only in 2025, and two links that start on
1 July 2026 and so owe 1 contact, not 2.

Suggestions, raised by representative ``k`` for their worker ``k`` (one each; those he is
to hold without acting on them, the worker raises, the representative being their upper
contact), from
20 November 2026 09:00 (``T0``), with the default deadlines (representative: 3 days to
acknowledge, 7 to answer; committee 3 / 10; leader 5 / 15):

* answered: answered by the representative as he raises it; 2 of them closed;
* timed out: nobody acknowledges; at T0+4 the scheduler sends them to the committee member
  (level 1), who acknowledges 2 and answers 1 of those;
* relayed: the representative passes it up as he raises it; the committee member acknowledges
  them all and answers 1;
* relayed twice: passed up at once at T0, then by the scheduler at T0+4 (the committee member
  did not acknowledge in 3 days): with a leader at level 2;
* to a department: passed up at once, then by hand to the top (level 3), assigned to a
  department; 2 of the 3 resolved;
* waiting: acknowledged by the representative only; its 7 days to answer run out at T0+7.

The figures are read at T0+8 (28 November 2026 09:00): 13 suggestions open (3 at level 0,
7 at level 1, 2 at level 2, 1 at level 3), 6 of them overdue; 23 raised, 8 answered, 2 resolved.

Then every event is delivered a second time (full topology: re-published to the topics), the
reports app restarts on what it committed, and the projections are rebuilt from the first
event; every figure must stay exactly the same.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

from contacts import commands as ccmd
from eventspine.bus import InProcessBus
from eventspine.config import Settings
from eventspine.projection import Projection
from eventspine.schemas import installed_registry
from eventspine.store.base import CommandContext
from eventspine.store.sqlite import SqliteEventStore
from feedback_driver import MovableClock
from reports.projections import ComplianceProjection, SuggestionProjection
from reports_driver import LATE_IN_2026, City, city, get, reports, settle
from roster import commands as rcmd
from support.pg import topology_settings

pytestmark = pytest.mark.integration

CTX = CommandContext(actor="staff:script")
LEADERS, COMMITTEE, REPRESENTATIVES, WORKERS = 10, 59, 300, 3000
# 4 counties of 2 enterprises: 4 and 8 share no factor with the pattern's 3, so every unit
# gets met, behind and none links.
COUNTIES, ENTERPRISES_PER_COUNTY = 4, 2
ENTERPRISES = COUNTIES * ENTERPRISES_PER_COUNTY
LINKED_ON = date(2025, 6, 1)  # before 2026: a whole-year link owes 2 contacts
MID_YEAR = date(2026, 7, 1)  # 184 of 365 days: owes round(2 * 184 / 365) = 1 contact

Outcome = Literal["met", "behind", "none"]


# -- the contact script -------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """What is logged on one link, and what the rule must make of it (worked out by hand)."""

    outcome: Outcome
    contacts: tuple[date, ...] = ()
    corrections: tuple[tuple[int, date], ...] = ()  # (which contact, its corrected date)
    retractions: tuple[int, ...] = ()  # which contacts are withdrawn
    starts: date = LINKED_ON


MET = Case("met", (date(2026, 3, 1), date(2026, 8, 1)))
BEHIND = Case("behind", (date(2026, 5, 5),))
NONE = Case("none")
PATTERN = (MET, BEHIND, NONE)  # by link index % 3
SPECIAL = {
    # leader -> committee: two contacts, one withdrawn: 1 of 2.
    3: Case("behind", MET.contacts, retractions=(1,)),
    # committee -> representative: its only contact withdrawn: 0.
    100: Case("none", BEHIND.contacts, retractions=(0,)),
    # representative -> worker links from here on (index >= 359).
    # The August contact corrected to December 2025: out of 2026, 1 of 2.
    400: Case("behind", MET.contacts, corrections=((1, date(2025, 12, 1)),)),
    # Corrected within 2026: still 2.
    401: Case("met", MET.contacts, corrections=((0, date(2026, 4, 1)),)),
    # Logged for December 2025, corrected into February 2026: 2.
    402: Case("met", (date(2025, 12, 1), date(2026, 5, 5)), corrections=((0, date(2026, 2, 1)),)),
    # Only a contact in 2025: nothing in 2026.
    403: Case("none", (date(2025, 12, 1),)),
    # Linked on 1 July 2026, one contact in August: owes 1, so met.
    404: Case("met", (date(2026, 8, 1),), starts=MID_YEAR),
    # Linked on 1 July 2026, no contact.
    405: Case("none", starts=MID_YEAR),
}


def case_of(index: int) -> Case:
    """The script of the link with this index."""
    return SPECIAL.get(index, PATTERN[index % 3])


@dataclass
class Link:
    """One scripted link."""

    index: int
    upper: uuid.UUID
    lower: uuid.UUID
    upper_tier: str
    lower_unit: uuid.UUID
    case: Case


@dataclass
class Roster:
    """The scripted roster."""

    city: uuid.UUID
    counties: list[uuid.UUID]
    county_of: dict[uuid.UUID, uuid.UUID]  # every unit below the city -> its county
    members: dict[str, list[uuid.UUID]]
    links: list[Link] = field(default_factory=list)


async def build_roster(c: City) -> Roster:
    """Units, 3,369 members and 3,359 links, through the roster's command handlers."""
    service = c.roster

    async def unit(name: str, kind: str, parent: uuid.UUID | None) -> uuid.UUID:
        unit_id = uuid.uuid4()
        command = rcmd.RegisterUnit(unit_id=unit_id, name=name, kind=kind, parent_unit_id=parent)
        await service.register_unit(command, CTX)
        return unit_id

    city_id = await unit("阳泉市总工会", "city_federation", None)
    counties = [await unit(f"县总工会{n}", "county_union", city_id) for n in range(COUNTIES)]
    enterprises = [
        await unit(f"企业工会{n}", "enterprise_union", counties[n // ENTERPRISES_PER_COUNTY])
        for n in range(ENTERPRISES)
    ]
    county_of = {u: u for u in counties} | {
        e: counties[n // ENTERPRISES_PER_COUNTY] for n, e in enumerate(enterprises)
    }
    number = 0

    async def member(unit_id: uuid.UUID, tier: str) -> uuid.UUID:
        nonlocal number
        number += 1
        member_id = uuid.uuid4()
        command = rcmd.RegisterMember.model_validate(
            {
                "member_id": member_id,
                "unit_id": unit_id,
                "tier": tier,
                "name": f"成员{number}",
                "external_number": f"YQ{number:05d}",
                "registered_on": "2025-01-01",
            }
        )
        await service.register_member(command, CTX)
        return member_id

    def unit_of(tier: str, i: int) -> uuid.UUID:
        """Where the ``i``-th member of a tier belongs (see the module's docstring)."""
        if tier == "leader":
            return city_id
        if tier == "committee":
            return counties[i % COUNTIES]
        if tier == "representative":
            return enterprises[i % len(enterprises)]
        return enterprises[(i % REPRESENTATIVES) % len(enterprises)]  # their representative's

    sizes = {
        "leader": LEADERS,
        "committee": COMMITTEE,
        "representative": REPRESENTATIVES,
        "worker": WORKERS,
    }
    members = {
        tier: [await member(unit_of(tier, i), tier) for i in range(n)] for tier, n in sizes.items()
    }
    roster = Roster(city_id, counties, county_of, members)
    for upper_tier, lower_tier in (
        ("leader", "committee"),
        ("committee", "representative"),
        ("representative", "worker"),
    ):
        uppers = members[upper_tier]
        for i, lower in enumerate(members[lower_tier]):
            index = len(roster.links)
            link = Link(
                index,
                uppers[i % len(uppers)],
                lower,
                upper_tier,
                unit_of(lower_tier, i),
                case_of(index),
            )
            await service.link(
                rcmd.LinkMember(
                    upper_member_id=link.upper,
                    lower_member_id=link.lower,
                    assigned_on=link.case.starts,
                    span_override_reason="名册超出目标人数",
                ),
                CTX,
            )
            roster.links.append(link)
    return roster


async def log_contacts(c: City, roster: Roster) -> int:
    """Every link's scripted contacts, corrections and retractions; return the events."""
    service, events = c.contacts, 0
    for link in roster.links:
        ids = []
        for day in link.case.contacts:
            contact_id = uuid.uuid4()
            command = ccmd.LogContact(
                contact_id=contact_id,
                upper_member_id=link.upper,
                lower_member_id=link.lower,
                contacted_on=day,
                method="visit",
            )
            events += len(await service.log_contact(command, CTX))
            ids.append(contact_id)
        for which, day in link.case.corrections:
            correction = ccmd.CorrectContact(contacted_on=day, reason="日期记错")
            events += len(await service.correct(correction, CTX, contact_id=ids[which]))
        for which in link.case.retractions:
            retraction = ccmd.RetractContact(reason="误录")
            events += len(await service.retract(retraction, CTX, contact_id=ids[which]))
    return events


def tally(links: list[Link]) -> dict[str, Any]:
    """The figures the view must show for these links, counted from their scripts."""
    outcomes = Counter(link.case.outcome for link in links)
    return {
        "links": len(links),
        "met": outcomes["met"],
        "behind": outcomes["behind"],
        "none": outcomes["none"],
        "compliance_pct": round(outcomes["met"] / len(links) * 100, 1),
    }


# -- the suggestion script ----------------------------------------------------------------

GROUPS = {  # how many suggestions of each kind (see the module's docstring)
    "answered": 6,
    "timed_out": 5,
    "relayed": 4,
    "relayed_twice": 2,
    "to_department": 3,
    "waiting": 3,
}
CLOSED, TIMED_OUT_ACKNOWLEDGED, TIMED_OUT_ANSWERED = 2, 2, 1
RELAYED_ANSWERED, DEPARTMENT_RESOLVED = 1, 2
TICK_AT, READ_AT = 4, 8  # days after T0


@dataclass
class Suggestion:
    """One scripted suggestion and the members on its way up."""

    group: str
    nth: int  # within its group
    k: int  # raised by representative k for worker k (in enterprise k % ENTERPRISES)
    raiser: str  # the representative
    worker: str
    committee: str
    leader: str
    suggestion_id: str = ""


def suggestion_cast(roster: Roster) -> list[Suggestion]:
    """Representative ``k`` raises suggestion ``k`` for worker ``k`` (their own worker)."""
    m = roster.members
    cast: list[Suggestion] = []
    for group, count in GROUPS.items():
        for nth in range(count):
            k = len(cast)
            committee = k % COMMITTEE  # representative k's upper contact
            cast.append(
                Suggestion(
                    group,
                    nth,
                    k,
                    str(m["representative"][k]),
                    str(m["worker"][k]),
                    str(m["committee"][committee]),
                    str(m["leader"][committee % LEADERS]),
                )
            )
    return cast


async def script_suggestions(c: City, cast: list[Suggestion]) -> None:
    """Raise and move every suggestion from T0 to T0+8, as the docstring tells."""
    fb = c.feedback
    # Raising for his own worker, the representative answers it now or passes it up at once;
    # what he is to hold without acting on it (timed out, waiting), the worker raises.
    choice: dict[str, dict[str, str]] = {
        "answered": {"then": "answer", "answer": "已答复"},
        "relayed": {"then": "pass_up", "reason": "需要上级协调"},
        "relayed_twice": {"then": "pass_up", "reason": "需要上级协调"},
        "to_department": {"then": "pass_up", "reason": "需要上级协调"},
    }
    for s in cast:
        if s.group in choice:
            s.suggestion_id = await fb.raise_(
                s.raiser, "职工的建议", on_behalf_of=s.worker, **choice[s.group]
            )
        else:
            s.suggestion_id = await fb.raise_(s.worker, "职工的建议")
    by = {g: [s for s in cast if s.group == g] for g in GROUPS}
    for s in by["answered"]:
        if s.nth < CLOSED:
            await fb.act(s.raiser, s.suggestion_id, "closure")
    for s in by["waiting"]:
        await fb.act(s.raiser, s.suggestion_id, "acknowledgement")
    for s in by["relayed"]:
        await fb.act(s.committee, s.suggestion_id, "acknowledgement")
        if s.nth < RELAYED_ANSWERED:
            await fb.act(s.committee, s.suggestion_id, "answer", answer="已协调")
    for s in by["to_department"]:
        for holder in (s.committee, s.leader):
            await fb.act(holder, s.suggestion_id, "acknowledgement")
            await fb.act(holder, s.suggestion_id, "escalation", reason="需要市总统筹")
        # At the top of the chain any leadership member acts.
        await fb.act(s.leader, s.suggestion_id, "acknowledgement")
        await fb.act(s.leader, s.suggestion_id, "assignment", department="training")
        if s.nth < DEPARTMENT_RESOLVED:
            await fb.act(s.leader, s.suggestion_id, "resolution", outcome="举办培训班")

    c.clock.advance(TICK_AT)
    escalated = await fb.wired.scheduler.tick()
    # The representatives' 3 days to acknowledge passed (timed out), and so did the committee
    # members' on the suggestions relayed to them at T0 that they left alone (relayed twice).
    assert escalated == GROUPS["timed_out"] + GROUPS["relayed_twice"]
    for s in by["timed_out"][:TIMED_OUT_ACKNOWLEDGED]:
        await fb.act(s.committee, s.suggestion_id, "acknowledgement")
        if s.nth < TIMED_OUT_ANSWERED:
            await fb.act(s.committee, s.suggestion_id, "answer", answer="已答复")
    c.clock.advance(READ_AT - TICK_AT)


@dataclass(frozen=True)
class Open:
    """Where an open suggestion must be at T0+8, and its deadline then (hours; None: none)."""

    level: int
    hours_to_deadline: float | None


def expected_queue(cast: list[Suggestion]) -> dict[str, Open]:
    """Every suggestion still open at T0+8, counted from the script by hand."""
    hours = 24
    expected = {}
    for s in cast:
        match s.group, s.nth:
            case "timed_out", n if n >= TIMED_OUT_ACKNOWLEDGED:
                # With the committee member since T0+4, 3 days to acknowledge: T0+7, a day ago.
                expected[s.suggestion_id] = Open(1, -1.0 * hours)
            case "timed_out", n if n >= TIMED_OUT_ANSWERED:
                # Acknowledged at level 1: 10 days to answer from T0+4: T0+14, 6 days ahead.
                expected[s.suggestion_id] = Open(1, 6.0 * hours)
            case "relayed", n if n >= RELAYED_ANSWERED:
                # With the committee member since T0, acknowledged: T0+10, 2 days ahead.
                expected[s.suggestion_id] = Open(1, 2.0 * hours)
            case "relayed_twice", _:
                # With a leader since T0+4, 5 days to acknowledge: T0+9, 1 day ahead.
                expected[s.suggestion_id] = Open(2, 1.0 * hours)
            case "to_department", n if n >= DEPARTMENT_RESOLVED:
                # Assigned at the top (level 3) at T0: 15 days for the department's outcome.
                expected[s.suggestion_id] = Open(3, 7.0 * hours)
            case "waiting", _:
                # Acknowledged by the representative at T0, 7 days to answer: T0+7, a day ago.
                expected[s.suggestion_id] = Open(0, -1.0 * hours)
    return expected


# -- reading the figures ------------------------------------------------------------------


async def figures(client: httpx.AsyncClient, roster: Roster) -> dict[str, Any]:
    """Every figure the test asserts, as the reports API answers them."""
    county = roster.counties[0]
    queue = await get(client, "/escalation-queue", limit=500)
    special = {}
    for index in SPECIAL:  # each special link, found among its upper member's links
        link = roster.links[index]
        page = await get(
            client, "/compliance", period="2026", upper_member_id=str(link.upper), limit=500
        )
        special[index] = next(r for r in page["data"] if r["lower_member_id"] == str(link.lower))
    return {
        "special": special,
        "county_queue": await get(client, "/escalation-queue", unit_id=str(county), limit=500),
        "compliance": await get(client, "/compliance", period="2026", limit=500),
        "county": await get(client, "/compliance", period="2026", unit_id=str(county), limit=500),
        "queue": queue,
        "levels": {
            level: await get(client, "/escalation-queue", level=level, limit=500)
            for level in range(4)
        },
        "overview": await get(client, "/overview", period="2026"),
    }


def check(seen: dict[str, Any], roster: Roster, cast: list[Suggestion]) -> None:
    """Assert every figure against what the script says."""
    links = roster.links
    county = roster.counties[0]
    in_county = [link for link in links if roster.county_of.get(link.lower_unit) == county]

    report = seen["compliance"]
    assert report["period"] == "2026"
    assert report["city"] == tally(links)
    assert {g["key"]: g["tally"] for g in report["by_tier"]} == {
        tier: tally([link for link in links if link.upper_tier == tier])
        for tier in ("committee", "leader", "representative")
    }
    units = {g["key"]: g["tally"] for g in report["by_unit"]}
    assert units[str(roster.city)] == tally(links)
    for each in roster.counties:
        mine = [link for link in links if roster.county_of.get(link.lower_unit) == each]
        assert units[str(each)] == tally(mine)
    assert report["count"] == len(links)
    assert seen["county"]["city"] == tally(in_county)
    assert seen["county"]["count"] == len(in_county)
    for index, row in seen["special"].items():
        case = links[index].case
        owed = 1 if case.starts == MID_YEAR else 2
        assert (row["status"], row["required"]) == (case.outcome, owed), index

    expected = expected_queue(cast)
    queue = seen["queue"]
    assert queue["count"] == len(expected)
    assert queue["overdue"] == sum(
        1 for o in expected.values() if o.hours_to_deadline is not None and o.hours_to_deadline < 0
    )
    assert {
        item["suggestion_id"]: Open(item["level"], item["hours_to_deadline"])
        for item in queue["data"]
    } == expected
    for level, page in seen["levels"].items():
        assert page["count"] == sum(1 for o in expected.values() if o.level == level), level
    # The queue of the first county: suggestions raised for its workers (enterprises 0 and 1).
    in_county_queue = {
        s.suggestion_id
        for s in cast
        if s.suggestion_id in expected and s.k % ENTERPRISES // ENTERPRISES_PER_COUNTY == 0
    }
    assert {i["suggestion_id"] for i in seen["county_queue"]["data"]} == in_county_queue

    answered = (
        GROUPS["answered"] + TIMED_OUT_ANSWERED + RELAYED_ANSWERED
    )  # closed ones stay answered
    overview = dict(seen["overview"])
    # The same suggestions counted per level and per department add up to the totals.
    for grouping in (overview.pop("by_level"), overview.pop("by_department")):
        assert sum(t["raised"] for t in grouping) == len(cast)
        assert sum(t["answered"] for t in grouping) == answered
        assert sum(t["resolved"] for t in grouping) == DEPARTMENT_RESOLVED
    assert overview == {
        "period": "2026",
        "linked_members": {
            "committee": COMMITTEE,
            "representative": REPRESENTATIVES,
            "worker": WORKERS,
        },
        "compliance_pct": tally(links)["compliance_pct"],
        "suggestions_raised": len(cast),
        "suggestions_answered": answered,
        "suggestions_resolved": DEPARTMENT_RESOLVED,
        # Seven of the eight answers came at once at T0 (0 hours): the median is 0.
        "median_hours_to_first_answer": 0.0,
    }


# -- the test ------------------------------------------------------------------------------


@pytest.fixture
async def settings(pg_dsn: str, kafka_bootstrap: str) -> AsyncIterator[Settings]:
    """Full topology, with schemas and topics unique to the test (dropped afterwards)."""
    async with topology_settings(pg_dsn, kafka_bootstrap, "y") as settings:
        yield settings


class Stopwatch:
    """Times the phases, printed with ``pytest -s``."""

    def __init__(self) -> None:
        self.start = self.last = time.monotonic()

    def lap(self, what: str) -> None:
        now = time.monotonic()
        print(f"{what}: {now - self.last:.1f} s (total {now - self.start:.1f} s)")
        self.last = now


async def rebuild_embedded(settings: Settings) -> None:
    """Empty both projections and replay every stored event into them (reports app stopped)."""
    registry = installed_registry()
    folder = Path(settings.sqlite_dir)
    stores = [
        SqliteEventStore(str(folder / f"{service}-events.sqlite"), service, registry)
        for service in ("roster", "contacts", "feedback")
    ]
    for store in stores:
        await store.open()
    projections: list[Projection] = [ComplianceProjection(), SuggestionProjection()]
    bus = InProcessBus(stores, projections, str(folder / "reports.sqlite"))
    await bus.open()
    try:
        for projection in projections:
            await bus.reset(projection)
        assert await bus.drain() > 0
    finally:
        await bus.close()
        for store in stores:
            await store.close()


@pytest.fixture(params=["postgres", "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The full topology, then the embedded default."""
    if request.param == "postgres":
        full: Settings = request.getfixturevalue("settings")
        return full
    return Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))


async def test_a_scripted_year_gives_exactly_the_scripted_figures_whatever_the_delivery(
    backend: Settings,
) -> None:
    settings, watch = backend, Stopwatch()
    clock = MovableClock(LATE_IN_2026)
    full = settings.store_backend == "postgres"
    async with city(settings, clock) as c:
        roster = await build_roster(c)
        watch.lap("roster built")
        await c.sync()
        watch.lap("roster published")
        await log_contacts(c, roster)
        watch.lap("contacts logged")
        await c.sync()
        cast = suggestion_cast(roster)
        await script_suggestions(c, cast)
        watch.lap("suggestions scripted")
        await c.publish()
        watch.lap("published")

        async with reports(settings, clock) as (client, _):
            await settle(client)
            watch.lap("reports caught up")
            seen = await figures(client, roster)
            check(seen, roster, cast)
            if full:  # every event delivered a second time
                await c.publish_again()
                await settle(client)
                assert await figures(client, roster) == seen
                watch.lap("duplicates delivered")

    # After a crash or a restart the projections resume where they committed.
    async with reports(settings, clock) as (client, _):
        await settle(client)
        assert await figures(client, roster) == seen
    watch.lap("restarted")

    # A rebuild from the first event gives the same figures.
    if full:
        rebuilt = settings.model_copy(
            update={"pg_schema_prefix": f"{settings.pg_schema_prefix}rb_"}
        )
    else:
        await rebuild_embedded(settings)
        rebuilt = settings
    async with reports(rebuilt, clock) as (client, _):
        await settle(client)
        assert await figures(client, roster) == seen
    watch.lap("rebuilt")
