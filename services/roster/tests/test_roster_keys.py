"""A member's key exists only once the roster accepted them: a refused registration leaves none."""

from __future__ import annotations

import uuid

import httpx

from eventspine.config import Settings
from roster.bootstrap import Roster as WiredRoster
from roster.main import create_app
from roster_driver import Roster
from support.auth import STAFF


async def test_a_registration_refused_for_a_taken_number_creates_no_key(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        wired: WiredRoster = app.state.roster
        keys = wired.handlers.vault.keys
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://roster", headers=STAFF
        ) as client:
            roster = Roster(client)
            city = await roster.unit("阳泉市总工会", "city_federation")
            first = await roster.member(city, "worker", external_number="YQ-7")
            second = str(uuid.uuid4())
            refused = await client.post(
                "/members",
                json={
                    "member_id": second,
                    "unit_id": city,
                    "tier": "worker",
                    "name": "李四",
                    "external_number": "yq-7",
                },
            )
        assert refused.status_code == 409, refused.text
        assert "already used" in refused.json()["detail"]
        assert await keys.key_for(uuid.UUID(first), create=False) is not None
        assert await keys.key_for(uuid.UUID(second), create=False) is None
