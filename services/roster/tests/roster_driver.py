"""Drives the roster API the way a staff client would (shared by the roster's tests)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


class Roster:
    """Small helpers that drive the API the way a staff client would."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.numbers = 0

    async def ok(self, method: str, url: str, **kwargs: Any) -> Any:
        answer = await self.client.request(method, url, **kwargs)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    async def unit(self, name: str, kind: str, parent: str | None = None) -> str:
        unit_id = str(uuid.uuid4())
        await self.ok(
            "POST",
            "/units",
            json={"unit_id": unit_id, "name": name, "kind": kind, "parent_unit_id": parent},
        )
        return unit_id

    async def member(self, unit_id: str, tier: str, name: str | None = None, **extra: Any) -> str:
        self.numbers += 1
        member_id = str(uuid.uuid4())
        body = {
            "member_id": member_id,
            "unit_id": unit_id,
            "tier": tier,
            "name": name or f"成员{self.numbers}",
            "external_number": f"N{self.numbers:05d}",
            **extra,
        }
        await self.ok("POST", "/members", json=body)
        return member_id

    async def link(self, upper: str, lower: str, **extra: Any) -> Any:
        return await self.ok(
            "POST", "/links", json={"upper_member_id": upper, "lower_member_id": lower, **extra}
        )
