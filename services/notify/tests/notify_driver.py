"""Drives the notify service beside roster, contacts and feedback, on one movable clock.

Full topology: every store on PostgreSQL, :meth:`reports_driver.City.sync` relays the roster's,
contacts' and feedback's stores to Kafka, and the notify app consumes the topics. Embedded:
every app on SQLite files in one folder, notify's replica fed from the others' store files.
The scheduler never runs by itself here: tests move the clock and call ``tick``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI

from contacts import commands as ccmd
from eventspine.config import Settings
from eventspine.store.base import CommandContext
from feedback_driver import MovableClock
from notify.bootstrap import Notify
from notify.main import create_app
from notify.settings import NotifySettings
from reports_driver import City
from roster import commands as rcmd
from support.auth import STAFF, as_member

CTX = CommandContext(actor="staff:script")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment in the federation's time zone."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@dataclass
class NotifyClient:
    """The notify app, its HTTP client and the wired service."""

    app: FastAPI
    http: httpx.AsyncClient

    @property
    def wired(self) -> Notify:
        """The service behind the app."""
        notify: Notify = self.app.state.notify
        return notify

    async def tick(self, city: City, now: datetime, *, sync: bool = True) -> tuple[int, int]:
        """Move the shared clock to ``now``, let the replica catch up (``sync``: publish the
        others' new events first), run one tick."""
        city.clock.now = now
        if sync:
            await city.sync()
        assert await self.wired.feed.catch_up(60.0)
        return await self.wired.scheduler.tick(now)

    async def of(self, member: uuid.UUID | str) -> Any:
        """A member's notifications, as they read them."""
        answer = await self.http.get("/me/notifications", headers=as_member(str(member)))
        assert answer.status_code == 200, answer.text
        return answer.json()


@contextlib.asynccontextmanager
async def notify_app(
    settings: Settings,
    clock: MovableClock,
    config: NotifySettings | None = None,
    roster: FastAPI | None = None,
) -> AsyncIterator[NotifyClient]:
    """The notify app on the settings' backend and the shared clock; ``roster``: the roster
    app it asks for names (none: it names no one)."""
    app = create_app(settings, clock, config or NotifySettings(scheduler_enabled=False), roster)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://notify", headers=STAFF
        ) as http:
            yield NotifyClient(app, http)


async def unit(city: City, name: str, kind: str, parent: uuid.UUID | None) -> uuid.UUID:
    """Register a unit."""
    unit_id = uuid.uuid4()
    command = rcmd.RegisterUnit(unit_id=unit_id, name=name, kind=kind, parent_unit_id=parent)
    await city.roster.register_unit(command, CTX)
    return unit_id


async def member(
    city: City, unit_id: uuid.UUID, tier: str, name: str, phone: str | None = None
) -> uuid.UUID:
    """Register a member (with ``phone``, one an intake can match)."""
    member_id = uuid.uuid4()
    command = rcmd.RegisterMember.model_validate(
        {
            "member_id": member_id,
            "unit_id": unit_id,
            "tier": tier,
            "name": name,
            "external_number": f"N{member_id.hex[:8]}",
            "registered_on": "2025-01-01",
            **({"phone": phone} if phone else {}),
        }
    )
    await city.roster.register_member(command, CTX)
    return member_id


async def link(city: City, upper: uuid.UUID, lower: uuid.UUID, on: date) -> None:
    """Link ``lower`` to ``upper`` from ``on``."""
    command = rcmd.LinkMember(
        upper_member_id=upper,
        lower_member_id=lower,
        assigned_on=on,
        span_override_reason="名册超出目标人数",
    )
    await city.roster.link(command, CTX)


class Chain(NamedTuple):
    """One of each tier in the federation's unit, each linked to the one above since 1 June
    2025: the path a worker's suggestion climbs."""

    federation: uuid.UUID
    leader: uuid.UUID
    committee: uuid.UUID
    rep: uuid.UUID
    worker: uuid.UUID


async def chain(city: City) -> Chain:
    """Register the federation, 张永忠 (leader), 李卫国 (committee), 张东峰 (representative)
    and 王师傅 (worker), and link them (the replicas are not synced yet)."""
    federation = await unit(city, "阳泉市总工会", "city_federation", None)
    leader = await member(city, federation, "leader", "张永忠")
    committee = await member(city, federation, "committee", "李卫国")
    rep = await member(city, federation, "representative", "张东峰")
    worker = await member(city, federation, "worker", "王师傅")
    for upper, lower in ((leader, committee), (committee, rep), (rep, worker)):
        await link(city, upper, lower, date(2025, 6, 1))
    return Chain(federation, leader, committee, rep, worker)


async def forget(city: City, member_id: uuid.UUID) -> None:
    """The roster forgets a member (their key destroyed)."""
    await city.roster.forget_member(rcmd.ForgetMember(member_id=member_id), CTX)


async def contact(city: City, upper: uuid.UUID, lower: uuid.UUID, on: date) -> None:
    """Log a contact on the link between them."""
    command = ccmd.LogContact(
        contact_id=uuid.uuid4(),
        upper_member_id=upper,
        lower_member_id=lower,
        contacted_on=on,
        method="visit",
    )
    await city.contacts.log_contact(command, CTX)
