"""A small city in the embedded app, with two branches of the tree, built over HTTP by staff.

Branch A and branch B each run leader → committee member → representative → worker, with a
contact on the representative's link and a suggestion the representative raised. Tests sign
in as branch A's representative and check that nothing of branch B reaches them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from eventspine.config import Settings
from support.auth import STAFF
from web.embedded import create_app

NOW = datetime(2026, 6, 30, 9, 0, tzinfo=UTC)
TIERS = ("leader", "committee", "representative", "worker")


def clock() -> datetime:
    """The city's 'now'."""
    return NOW


@dataclass
class Branch:
    """One chain of the tree and what happened on it."""

    unit: str
    members: dict[str, str] = field(default_factory=dict)  # tier -> member id
    links: list[str] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    def ids(self) -> set[str]:
        """Every id that belongs to this branch's people and their doings."""
        return {*self.members.values(), *self.links, *self.contacts, *self.suggestions}


async def ok(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> Any:
    """A request that must succeed; its JSON."""
    answer = await client.request(method, url, **kw)
    assert answer.status_code in (200, 201), f"{method} {url}: {answer.text}"
    return answer.json() if answer.content else None


async def _branch(client: httpx.AsyncClient, city: str, name: str, number: int) -> Branch:
    unit = str(uuid.uuid4())
    await ok(
        client,
        "POST",
        "/roster/units",
        json={"unit_id": unit, "name": name, "kind": "county_union", "parent_unit_id": city},
    )
    branch = Branch(unit)
    upper: str | None = None
    for i, tier in enumerate(TIERS):
        member = str(uuid.uuid4())
        await ok(
            client,
            "POST",
            "/roster/members",
            json={
                "member_id": member,
                "unit_id": unit,
                "tier": tier,
                "name": f"{name}{tier}",
                "external_number": f"{number}-{i}",
                "registered_on": "2025-01-01",
            },
        )
        branch.members[tier] = member
        if upper is not None:
            linked = await ok(
                client,
                "POST",
                "/roster/links",
                json={
                    "upper_member_id": upper,
                    "lower_member_id": member,
                    "assigned_on": "2025-02-01",
                },
            )
            assigned = next(e for e in linked["events"] if ".MemberAssigned." in e["type"])
            branch.links.append(assigned["event_id"])
        upper = member
    return branch


@asynccontextmanager
async def embedded_city(folder: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Branch, Branch]]:
    """The embedded app with a two-branch city; the client carries no token of its own."""
    app = create_app(Settings(sqlite_dir=str(folder)), clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sanlian") as client:
            city = str(uuid.uuid4())
            await ok(
                client,
                "POST",
                "/roster/units",
                headers=STAFF,
                json={"unit_id": city, "name": "阳泉市总工会", "kind": "city_federation"},
            )
            client.headers.update(STAFF)
            a = await _branch(client, city, "盂县", 1)
            b = await _branch(client, city, "平定县", 2)
            del client.headers["Authorization"]
            for branch in (a, b):
                await _doings(client, branch)
            for _ in range(200):  # the reports projections follow the stores
                if (await ok(client, "GET", "/reports/ready"))["events_behind"] == 0:
                    break
                await asyncio.sleep(0.05)
            yield client, a, b


async def _doings(client: httpx.AsyncClient, branch: Branch) -> None:
    from support.auth import as_member

    rep, worker = branch.members["representative"], branch.members["worker"]
    contact = str(uuid.uuid4())
    for _ in range(100):  # the contacts replica follows the roster's store
        answer = await client.post(
            "/contacts/contacts",
            headers=as_member(rep),
            json={
                "contact_id": contact,
                "upper_member_id": rep,
                "lower_member_id": worker,
                "contacted_on": "2026-03-01",
                "method": "visit",
            },
        )
        if answer.status_code == 201:
            break
        await asyncio.sleep(0.05)
    assert answer.status_code == 201, answer.text
    branch.contacts.append(contact)
    raised = await ok(
        client,
        "POST",
        "/feedback/suggestions",
        headers=as_member(rep),
        json={"text": "希望培训职工代表", "category": "training", "channel": "online"},
    )
    branch.suggestions.append(raised["suggestion_id"])
