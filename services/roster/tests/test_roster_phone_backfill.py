"""The phone-index backfill: members registered before the roster published their phone's
blind index get it once; a second run appends nothing (both backends)."""

from __future__ import annotations

import uuid
from datetime import date

import httpx

from contracts.roster import phone_index
from eventspine.config import Settings
from eventspine.envelope import RecordedEvent
from eventspine.store.base import CommandContext
from roster import events as ev
from roster.bootstrap import Roster as WiredRoster
from roster.handlers import member_stream
from roster.main import create_app
from roster.phone_backfill import ACTOR, backfill
from roster_driver import Roster
from support.auth import STAFF


async def old_registration(wired: WiredRoster, unit_id: str, phone: str | None) -> uuid.UUID:
    """A member as the roster registered them before it published phone indexes."""
    member_id = uuid.uuid4()
    vault = wired.handlers.vault
    sealed = await vault.seal(member_id, {"name": "王师傅", "phone": phone, "wechat_id": None})
    event = ev.MemberRegistered(
        member_id=member_id,
        unit_id=uuid.UUID(unit_id),
        tier="worker",
        personal_data=sealed,
        number_index=uuid.uuid4().hex * 2,
        registered_on=date(2025, 3, 1),
    )
    await wired.store.append(
        member_stream(member_id), 0, [event], CommandContext(actor="test:older-roster")
    )
    return member_id


def _indexes(recorded: list[RecordedEvent]) -> list[RecordedEvent]:
    return [r for r in recorded if r.event_type == "MemberPhoneIndexed"]


async def test_older_members_get_their_phone_index_once_and_newer_ones_are_left_alone(
    settings: Settings,
) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        wired: WiredRoster = app.state.roster
        store, vault = wired.store, wired.handlers.vault
        secret = settings.index_secret.encode()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://roster", headers=STAFF
        ) as client:
            roster = Roster(client)
            city = await roster.unit("阳泉市总工会", "city_federation")
            newer = await roster.member(city, "worker", phone="13900139000")
            older = await old_registration(wired, city, "+86 138-0013-8000")
            no_phone = await old_registration(wired, city, None)
            departed = await old_registration(wired, city, "13700137000")
            await roster.ok("POST", f"/members/{departed}/departure", json={"reason": "调离"})

            done = await backfill(store, vault, secret)
            assert (done.looked_at, done.indexed) == (3, 1)
            [indexed] = _indexes(await store.read_stream(member_stream(older)))
            assert indexed.data["phone_index"] == phone_index(secret, "13800138000")
            assert indexed.actor == ACTOR
            for untouched in (no_phone, departed):
                assert _indexes(await store.read_stream(member_stream(untouched))) == []
            assert len(_indexes(await store.read_stream(member_stream(uuid.UUID(newer))))) == 1

            again = await backfill(store, vault, secret)
            assert (again.looked_at, again.indexed) == (2, 0)
            assert len(_indexes(await store.read_stream(member_stream(older)))) == 1
