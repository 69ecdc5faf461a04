"""A small roster for the frontend's tests, made through the services' ordinary HTTP commands:
a city federation and an enterprise union, one leadership member, a committee member, a
representative and three workers, linked 1:1:1:3."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Seeded:
    """What was made: ids by role, and the names shown on the pages."""

    tag: str
    city: str
    unit: str
    leader: str
    committee: str
    representative: str
    workers: list[str]
    names: dict[str, str] = field(default_factory=dict)


def ok(client: httpx.Client, method: str, url: str, **kw: Any) -> Any:
    """One call that must succeed."""
    answer = client.request(method, url, **kw)
    assert answer.status_code in (200, 201), f"{method} {url}: {answer.status_code} {answer.text}"
    return answer.json()


def seed(client: httpx.Client, tag: str, headers: dict[str, str]) -> Seeded:
    """Register and link the members; ``tag`` keeps names and numbers unique per test."""
    city, unit = str(uuid.uuid4()), str(uuid.uuid4())
    ok(
        client,
        "POST",
        "/roster/units",
        headers=headers,
        json={"unit_id": city, "name": f"阳泉市总工会{tag}", "kind": "city_federation"},
    )
    ok(
        client,
        "POST",
        "/roster/units",
        headers=headers,
        json={
            "unit_id": unit,
            "name": f"跃进煤业工会{tag}",
            "kind": "enterprise_union",
            "parent_unit_id": city,
        },
    )
    people = [
        ("leader", "张永忠", city),
        ("committee", "李卫国", unit),
        ("representative", "张东峰", unit),
        ("worker", "王芳", unit),
        ("worker", "赵强", unit),
        ("worker", "刘敏", unit),
    ]
    ids: list[str] = []
    names: dict[str, str] = {}
    for number, (tier, name, home) in enumerate(people):
        member = str(uuid.uuid4())
        ids.append(member)
        names[member] = name
        ok(
            client,
            "POST",
            "/roster/members",
            headers=headers,
            json={
                "member_id": member,
                "unit_id": home,
                "tier": tier,
                "name": name,
                "phone": f"1390000{number:04d}",
                "external_number": f"{tag}-{number}",
                "registered_on": "2025-01-02",
            },
        )
    leader, committee, representative, *workers = ids
    pairs = [(leader, committee), (committee, representative)]
    pairs += [(representative, w) for w in workers]
    for upper, lower in pairs:
        ok(
            client,
            "POST",
            "/roster/links",
            headers=headers,
            json={"upper_member_id": upper, "lower_member_id": lower, "assigned_on": "2025-03-01"},
        )
    return Seeded(tag, city, unit, leader, committee, representative, workers, names)


PASSWORD = "Sanlian-15510-browser"
"""Every test account's password."""


def accounts(
    client: httpx.Client, seeded: Seeded, tag: str, headers: dict[str, str]
) -> dict[str, str]:
    """Member accounts for the leadership member, committee member and representative
    (``POST /roster/accounts`` as an admin); answers their usernames by role in the chain."""
    usernames = {}
    for role, member in (
        ("leader", seeded.leader),
        ("committee", seeded.committee),
        ("representative", seeded.representative),
    ):
        username = f"{role}-{tag}"
        ok(
            client,
            "POST",
            "/roster/accounts",
            headers=headers,
            json={
                "username": username,
                "password": PASSWORD,
                "role": "member",
                "member_id": member,
            },
        )
        usernames[role] = username
    return usernames
