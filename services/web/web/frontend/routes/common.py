"""Look-ups several pages share."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from web.frontend.deps import Api
from web.frontend.services import ServiceError


async def members_by_id(api: Api, ids: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Roster entries of the given members; one the user may not see is left out."""
    wanted = sorted({str(i) for i in ids if i})

    async def one(member_id: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await api.get("roster", f"/members/{member_id}")
        except ServiceError as error:
            if error.status in (403, 404):
                return None
            raise
        return found

    found = await asyncio.gather(*(one(i) for i in wanted))
    return {i: m for i, m in zip(wanted, found, strict=True) if m is not None}


def flatten_units(tree: list[dict[str, Any]], depth: int = 0) -> list[dict[str, Any]]:
    """The unit tree as a list in tree order, each unit with its depth."""
    out: list[dict[str, Any]] = []
    for unit in tree:
        out.append({**unit, "depth": depth})
        out.extend(flatten_units(unit.get("children", []), depth + 1))
    return out


async def unit_names(api: Api) -> dict[str, str]:
    """Every unit's name by id."""
    tree = await api.get("roster", "/units")
    return {u["unit_id"]: u["name"] for u in flatten_units(tree)}
