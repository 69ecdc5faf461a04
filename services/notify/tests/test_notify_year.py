"""Acceptance, on both backends: a year's clock moved through a scripted city sends exactly the
digests this test computes from its own script (who, on which day, which links), none in the
quiet hours, none after the contact was made.

The script
==========

Two leaders and four committee members (committee ``i`` with leader ``i % 2``), six
representatives (representative ``j`` with committee member ``j % 4``), linked on 1 June 2025
(a whole-year link owes 2 contacts in 2026); one more representative linked to committee
member 3 on 1 July 2026 (184 of 365 days: owes 1). Contacts in 2026 per link, in
``CONTACTS``; each is logged at 08:00 on its day, before that day's tick.

The clock walks every day of 2026, ticking at 09:00, and at 23:30 on the days of an
occasion or a contact (the quiet hours: nothing may be issued then). The federation's
cadence is the default: a digest on the 1st of every month and on every Monday of December.

What the test expects, from the script alone: the digest of an occasion goes to an upper
member at the first 09:00 tick on or after it (before the next occasion) at which some link of
theirs still owes contacts, and it lists those links; an overdue notice goes once per link
whose first contact, due on 2 July (the end of the first half of the 365 days), is still
missing on 3 July. Nothing else is sent.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta

import pytest

from eventspine.config import Settings
from feedback_driver import MovableClock
from notify_driver import SHANGHAI, at, contact, link, member, notify_app, unit
from reports_driver import city

pytestmark = pytest.mark.integration

LINKED = date(2025, 6, 1)
LATE = date(2026, 7, 1)
FIRST_DUE = date(2026, 7, 2)  # a whole-year link's first contact: ceil(365 / 2) days in
CONTACTS: dict[str, tuple[date, ...]] = {
    # leader links (committee i, leader i % 2)
    "L0-C0": (date(2026, 2, 10), date(2026, 8, 5)),
    "L1-C1": (),
    "L0-C2": (date(2026, 3, 1),),  # on an occasion day, before its tick
    "L1-C3": (date(2026, 1, 5), date(2026, 1, 20)),  # done before the first digest's tick
    # committee links (representative j, committee j % 4)
    "C0-R0": (date(2026, 6, 30), date(2026, 12, 1)),
    "C1-R1": (date(2026, 11, 30),),
    "C2-R2": (date(2026, 4, 10), date(2026, 7, 3)),  # the second on the day it is overdue
    "C3-R3": (date(2026, 5, 2), date(2026, 5, 3)),
    "C0-R4": (date(2026, 12, 7),),  # on a December Monday
    "C1-R5": (date(2026, 2, 1), date(2026, 9, 1)),
    "C3-R6": (date(2026, 9, 1),),  # linked on 1 July: owes 1
}


def occasions() -> list[date]:
    found = {date(2026, month, 1) for month in range(1, 13)}
    found |= {date(2026, 12, d) for d in range(1, 32) if date(2026, 12, d).weekday() == 0}
    return sorted(found)


def required(name: str) -> int:
    return 1 if name == "C3-R6" else 2


def starts(name: str) -> date:
    return LATE if name == "C3-R6" else LINKED


def expected() -> tuple[dict[tuple[str, date], tuple[date, list[str]]], set[tuple[str, str]]]:
    """The digests (upper, occasion) -> (day issued, links listed) and the overdue notices
    (upper, link), from the script."""

    def owing(upper: str, day: date) -> list[str]:
        return sorted(
            name
            for name, days in CONTACTS.items()
            if name.startswith(upper + "-")
            and starts(name) <= day
            and sum(1 for d in days if d <= day) < required(name)
        )

    digests: dict[tuple[str, date], tuple[date, list[str]]] = {}
    overdue: set[tuple[str, str]] = set()
    uppers = sorted({name.split("-")[0] for name in CONTACTS})
    points = occasions()
    day = date(2026, 1, 1)
    while day.year == 2026:
        latest = max(o for o in points if o <= day)
        for upper in uppers:
            still = owing(upper, day)
            if still and (upper, latest) not in digests:
                digests[(upper, latest)] = (day, still)
            for name in still:
                if (
                    required(name) == 2
                    and day > FIRST_DUE
                    and not any(d <= day for d in CONTACTS[name])
                ):
                    overdue.add((upper, name))
        day += timedelta(days=1)
    return digests, overdue


async def test_a_year_of_digests_is_exactly_what_the_script_says(backend: Settings) -> None:
    clock = MovableClock(at(2025, 12, 1))
    async with city(backend, clock) as c, notify_app(backend, clock) as n:
        federation = await unit(c, "阳泉市总工会", "city_federation", None)
        ids: dict[str, uuid.UUID] = {}
        for name, tier in [
            *((f"L{i}", "leader") for i in range(2)),
            *((f"C{i}", "committee") for i in range(4)),
            *((f"R{j}", "representative") for j in range(7)),
        ]:
            ids[name] = await member(c, federation, tier, f"成员{name}")
        for name in CONTACTS:
            upper, lower = name.split("-")
            if starts(name) == LINKED:
                await link(c, ids[upper], ids[lower], LINKED)
        names = {v: k for k, v in ids.items()}
        await c.sync()

        by_day: dict[date, list[str]] = defaultdict(list)
        for name, days in CONTACTS.items():
            for day in days:
                by_day[day].append(name)
        quiet_days = set(occasions()) | set(by_day)
        day = date(2026, 1, 1)
        while day.year == 2026:
            if day == LATE:
                c.clock.now = at(2026, 7, 1, 8)
                await link(c, ids["C3"], ids["R6"], LATE)
                await c.sync()
            if by_day.get(day):
                c.clock.now = at(day.year, day.month, day.day, 8)
                for name in by_day[day]:
                    upper, lower = name.split("-")
                    await contact(c, ids[upper], ids[lower], day)
            # Publishing to Kafka only after the script wrote something: the rest of the year
            # the topics hold nothing new.
            fresh = day == LATE or bool(by_day.get(day))
            nine = at(day.year, day.month, day.day, 9)
            assert (await n.tick(c, nine, sync=fresh))[1] == 0  # no email address: 待办 only
            if day in quiet_days:
                late = at(day.year, day.month, day.day, 23, 30)
                assert await n.tick(c, late, sync=False) == (0, 0)
            day += timedelta(days=1)

        digests, overdue = expected()
        link_names = {}  # a link's id is the id of the roster's MemberAssigned event
        for record in await c.store("roster").read_all(0, 10_000):
            if record.event_type == "MemberAssigned":
                upper_id = uuid.UUID(record.data["upper_member_id"])
                lower_id = uuid.UUID(record.data["member_id"])
                link_names[str(record.id)] = f"{names[upper_id]}-{names[lower_id]}"
        found_digests: dict[tuple[str, date], tuple[date, str]] = {}
        found_overdue: set[tuple[str, str]] = set()
        for record in await n.wired.store.read_all(0, 10_000):
            if record.event_type != "NotificationIssued":
                continue
            local = record.time.astimezone(SHANGHAI)
            assert (local.hour, local.minute) == (9, 0), record.time  # never in quiet hours
            upper = names[uuid.UUID(record.data["member_id"])]
            if record.data["kind"] == "contacts_due":
                occasion = date.fromisoformat(record.data["due_on"])
                assert (upper, occasion) not in found_digests
                found_digests[(upper, occasion)] = (local.date(), record.data["notification_id"])
            else:
                assert record.data["kind"] == "contact_overdue"
                assert record.data["due_on"] == FIRST_DUE.isoformat()
                found_overdue.add((upper, link_names[record.data["subject"]]))
        assert {key: day for key, (day, _) in found_digests.items()} == {
            key: day for key, (day, _) in digests.items()
        }
        # Each digest lists exactly the links the script says still owed, soonest first.
        for key, (_, nid) in found_digests.items():
            listed = digests[key][1]
            owed = sum(
                required(n_) - sum(1 for d in CONTACTS[n_] if d <= digests[key][0]) for n_ in listed
            )
            text = next(
                item["text"]
                for item in (await n.of(ids[key[0]]))["data"]
                if item["notification_id"] == nid
            )
            assert f"还需联系 {len(listed)} 人共 {owed} 次" in text, (key, text)
        assert found_overdue == overdue
