"""Contacts-due digests on both backends: who is told, when, and what; never in the quiet
hours, never twice, never again for what was done since."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from eventspine.config import Settings
from feedback_driver import MovableClock
from notify.domain import notification_id
from notify_driver import at, contact, link, member, notify_app, unit
from reports_driver import city
from support.auth import as_member

pytestmark = pytest.mark.integration


async def test_a_leader_gets_one_digest_per_occasion_of_what_is_still_owed(
    backend: Settings,
) -> None:
    clock = MovableClock(at(2026, 1, 20))
    async with city(backend, clock) as c, notify_app(backend, clock) as n:
        federation = await unit(c, "阳泉市总工会", "city_federation", None)
        leader = await member(c, federation, "leader", "张永忠")
        first = await member(c, federation, "committee", "吴芳洋")
        second = await member(c, federation, "committee", "罗磊")
        await link(c, leader, first, date(2025, 6, 1))
        await link(c, leader, second, date(2025, 6, 1))
        await c.sync()  # the contacts service knows the links
        await contact(c, leader, first, date(2026, 1, 10))

        # 1 February 23:30 and 06:59 are quiet: nothing is issued then.
        assert await n.tick(c, at(2026, 2, 1, 23, 30)) == (0, 0)
        assert await n.tick(c, at(2026, 2, 2, 6, 59)) == (0, 0)
        # 07:00: the February digest (and nothing overdue yet: the first contact is due
        # 30 June on each link).
        issued, _ = await n.tick(c, at(2026, 2, 2, 7, 0))
        assert issued == 1
        assert await n.tick(c, at(2026, 2, 2, 9, 0)) == (0, 0)  # not twice

        mine = await n.of(leader)
        assert mine["unread"] == 1
        [digest] = mine["data"]
        assert digest["kind"] == "contacts_due"
        assert digest["due_on"] == "2026-02-01"
        nid = notification_id(
            uuid.UUID(str(leader)), "contacts_due", "digest", "2026", date(2026, 2, 1)
        )
        assert digest["notification_id"] == str(nid)
        # 2 people, 3 contacts (first has 1 of 2), 334 days left in 2026 on 2 February.
        assert digest["text"].startswith("本年度还剩 332 天：还需联系 2 人共 3 次")
        assert (await n.of(first))["count"] == 0  # committee members owe no one here

        # The stored event says nothing in clear.
        events = await n.wired.store.read_all(0, 100)
        issued_events = [e for e in events if e.event_type == "NotificationIssued"]
        assert len(issued_events) == 1
        raw = str(issued_events[0].data)
        assert "还需联系" not in raw
        assert "吴芳洋" not in raw
        assert issued_events[0].data["body"].startswith("v1.")

        # Everything done before 1 March: no March digest.
        c.clock.now = at(2026, 2, 25)
        await contact(c, leader, first, date(2026, 2, 20))
        await contact(c, leader, second, date(2026, 2, 21))
        await contact(c, leader, second, date(2026, 2, 22))
        assert await n.tick(c, at(2026, 3, 1, 9, 0)) == (0, 0)
        assert (await n.of(leader))["count"] == 1


async def test_members_choose_monthly_digests_or_none_but_overdue_notices_still_come(
    backend: Settings,
) -> None:
    clock = MovableClock(at(2026, 11, 20))
    async with city(backend, clock) as c, notify_app(backend, clock) as n:
        federation = await unit(c, "阳泉市总工会", "city_federation", None)
        leaders = [await member(c, federation, "leader", f"班子{i}") for i in range(3)]
        for i, leader in enumerate(leaders):
            lower = await member(c, federation, "committee", f"委员{i}")
            await link(c, leader, lower, date(2025, 6, 1))
        weekly, monthly, none = leaders
        for who, body in (
            (monthly, {"frequency": "monthly"}),
            (none, {"digests": False}),
        ):
            chosen = await n.http.post("/me/preferences", json=body, headers=as_member(str(who)))
            assert chosen.status_code == 200, chosen.text
        for day in (1, 7, 14):  # 1 December, then the first two Mondays of the last month
            await n.tick(c, at(2026, 12, day, 9))

        def due_days(items: list[dict[str, str]]) -> list[str]:
            return sorted(i["due_on"] for i in items if i["kind"] == "contacts_due")

        assert due_days((await n.of(weekly))["data"]) == [
            "2026-12-01",
            "2026-12-07",
            "2026-12-14",
        ]
        assert due_days((await n.of(monthly))["data"]) == ["2026-12-01"]
        nothing = (await n.of(none))["data"]
        assert due_days(nothing) == []
        # Overdue since 2 July, nothing logged: the essential notice comes all the same.
        assert [i["kind"] for i in nothing] == ["contact_overdue"]
