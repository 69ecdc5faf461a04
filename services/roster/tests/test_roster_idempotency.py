"""An Idempotency-Key sent again with a different request is refused (422) on both backends;
the same request again still answers what the first one did."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from eventspine.config import Settings
from eventspine.store.base import EventStore
from roster.main import create_app
from support.auth import STAFF

pytestmark = pytest.mark.integration


def clock() -> datetime:
    return datetime(2026, 6, 30, 9, 0, tzinfo=UTC)


@dataclass
class App:
    client: httpx.AsyncClient
    store: EventStore

    async def refused(self, key: str, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """Send a request under a key used before: it must be refused and store nothing."""
        before = await self.store.head_position()
        answer = await self.client.request(method, url, headers={"Idempotency-Key": key}, **kwargs)
        assert answer.status_code == 422, answer.text
        assert await self.store.head_position() == before
        assert answer.json()["code"] == "idempotency_key_reused"
        refusal: dict[str, Any] = answer.json()["errors"][0]
        return refusal


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    """The roster app, with its store at hand."""
    roster = create_app(settings, clock)
    async with roster.router.lifespan_context(roster):
        transport = httpx.ASGITransport(app=roster)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster") as client:
            client.headers.update(STAFF)
            yield App(client, roster.state.roster.store)


async def test_a_key_reused_with_another_body_or_path_is_refused_naming_the_key(app: App) -> None:
    key = str(uuid.uuid4())
    city = {"name": "阳泉市总工会", "kind": "city_federation"}
    first = await app.client.post("/units", json=city, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    other = {"name": "盂县总工会", "kind": "county_union"}
    refusal = await app.refused(key, "POST", "/units", json={**other, "parent_unit_id": None})
    assert (refusal["in"], refusal["field"]) == ("header", "Idempotency-Key")
    assert refusal["code"] == "idempotency_key_reused"
    assert key in refusal["detail"]
    units = (await app.client.get("/units")).json()
    assert [u["name"] for u in units] == ["阳泉市总工会"]  # the second unit was not made
    again = await app.client.post("/units", json=city, headers={"Idempotency-Key": key})
    assert again.status_code == 201, again.text
    assert again.json() == first.json()

    # The same body under one key for another unit (another path id) is another request.
    unit_id = first.json()["events"][0]["stream_id"].removeprefix("unit-")
    made = await app.client.post("/units", json={**other, "parent_unit_id": unit_id})
    county_id = made.json()["events"][0]["stream_id"].removeprefix("unit-")
    rename = str(uuid.uuid4())
    body = {"name": "盂县总工会（新）"}
    renamed = await app.client.put(
        f"/units/{county_id}/name", json=body, headers={"Idempotency-Key": rename}
    )
    assert renamed.status_code == 200, renamed.text
    refusal = await app.refused(rename, "PUT", f"/units/{unit_id}/name", json=body)
    assert refusal["code"] == "idempotency_key_reused"
    assert (await app.client.get(f"/units/{unit_id}")).json()["name"] == "阳泉市总工会"
