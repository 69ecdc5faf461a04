"""The escalation queue names the units it shows for what they are, on both backends: the unit
of the worker a suggestion speaks for, and the unit of the representative who raised it."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from eventspine.config import Settings
from eventspine.store.base import CommandContext
from feedback_driver import MovableClock
from reports_driver import LATE_IN_2026, City, city, get, reports, settle
from roster import commands as rcmd

pytestmark = pytest.mark.integration
CTX = CommandContext(actor="staff:script")


async def unit(c: City, name: str, kind: str, parent: uuid.UUID | None = None) -> uuid.UUID:
    unit_id = uuid.uuid4()
    command = rcmd.RegisterUnit(unit_id=unit_id, name=name, kind=kind, parent_unit_id=parent)
    await c.roster.register_unit(command, CTX)
    return unit_id


async def member(c: City, unit_id: uuid.UUID, tier: str, number: int) -> uuid.UUID:
    member_id = uuid.uuid4()
    command = rcmd.RegisterMember.model_validate(
        {
            "member_id": member_id,
            "unit_id": unit_id,
            "tier": tier,
            "name": f"成员{number}",
            "external_number": f"Q{number:03d}",
            "registered_on": "2025-01-01",
        }
    )
    await c.roster.register_member(command, CTX)
    return member_id


async def test_a_suggestion_raised_for_a_worker_names_the_workers_unit_and_the_raisers(
    backend: Settings,
) -> None:
    async with city(backend, MovableClock(LATE_IN_2026)) as c:
        county = await unit(c, "阳泉市总工会", "city_federation")
        rep_unit = await unit(c, "县工代会", "county_union", county)
        mine = await unit(c, "跃进煤业工会", "enterprise_union", county)
        committee = await member(c, county, "committee", 1)
        rep = await member(c, rep_unit, "representative", 2)
        worker = await member(c, mine, "worker", 3)
        for upper, lower in ((committee, rep), (rep, worker)):
            await c.roster.link(
                rcmd.LinkMember(
                    upper_member_id=upper, lower_member_id=lower, assigned_on=date(2025, 6, 1)
                ),
                CTX,
            )
        await c.sync()
        for_worker = await c.feedback.raise_(
            str(rep), "井下通风差", on_behalf_of=str(worker), then="pass_up", reason="需要上级协调"
        )
        own = await c.feedback.raise_(str(rep), "培训职工代表")
        await c.publish()
        async with reports(backend, c.clock) as (client, _):
            await settle(client)
            queue = await get(client, "/escalation-queue")
            units = {
                item["suggestion_id"]: (
                    item["subject_unit_id"],
                    item["raised_by_unit_id"],
                    item["raiser_unit_id"],
                )
                for item in queue["data"]
            }
            assert units == {
                for_worker: (str(mine), str(rep_unit), str(mine)),
                own: (str(rep_unit), str(rep_unit), str(rep_unit)),
            }
            by_subject = await get(client, "/escalation-queue", unit_id=str(mine))
            assert [i["suggestion_id"] for i in by_subject["data"]] == [for_worker]
            schema = (await get(client, "/openapi.json"))["components"]["schemas"]["QueueItem"]
            for name in ("subject_unit_id", "raised_by_unit_id", "raiser_unit_id"):
                assert schema["properties"][name]["description"], name
