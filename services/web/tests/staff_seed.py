"""A city with two counties for the staff pages' tests, made through the services' ordinary
HTTP commands: 阳泉市总工会 over 平定县总工会 and 盂县总工会, an enterprise union under each, a
leadership member, two committee members, two representatives and five workers, and contacts
that leave 平定县 with none of its links contacted and 盂县 with half of them met."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from web_seed import PASSWORD, ok

LINKED_ON = "2025-12-01"
"""Before the year the tests look at: every link owes the whole year's two contacts."""


@dataclass
class City:
    """What was made: unit and member ids by name, and the member accounts by name."""

    units: dict[str, str]
    members: dict[str, str]
    tiers: dict[str, str]
    unit_of: dict[str, str]
    phones: dict[str, str]
    accounts: dict[str, str] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)

    def name_of(self, member_id: str) -> str:
        """The name of the member with this id."""
        return next(n for n, i in self.members.items() if i == member_id)


UNITS = (
    ("阳泉市总工会", "city_federation", None),
    ("平定县总工会", "county_union", "阳泉市总工会"),
    ("盂县总工会", "county_union", "阳泉市总工会"),
    ("平定电厂工会", "enterprise_union", "平定县总工会"),
    ("跃进煤业工会", "enterprise_union", "盂县总工会"),
)
PEOPLE = (
    ("张永忠", "leader", "阳泉市总工会"),
    ("李卫国", "committee", "平定县总工会"),
    ("王建平", "committee", "盂县总工会"),
    ("陈红", "representative", "平定电厂工会"),
    ("张东峰", "representative", "跃进煤业工会"),
    ("刘敏", "worker", "平定电厂工会"),
    ("孙丽", "worker", "平定电厂工会"),
    ("周杰", "worker", "平定电厂工会"),
    ("王芳", "worker", "跃进煤业工会"),
    ("赵强", "worker", "跃进煤业工会"),
)
LINKS = (
    ("张永忠", "李卫国"),
    ("张永忠", "王建平"),
    ("李卫国", "陈红"),
    ("王建平", "张东峰"),
    ("陈红", "刘敏"),
    ("陈红", "孙丽"),
    ("陈红", "周杰"),
    ("张东峰", "王芳"),
    ("张东峰", "赵强"),
)
CONTACTS = (
    ("王建平", "张东峰", "2026-03-10"),
    ("王建平", "张东峰", "2026-06-10"),
    ("张东峰", "王芳", "2026-04-02"),
    ("张东峰", "王芳", "2026-09-15"),
    ("张东峰", "赵强", "2026-05-20"),
)
ACCOUNTS = ("张永忠", "李卫国", "王建平", "陈红", "张东峰")


def token(client: httpx.Client, username: str, password: str = PASSWORD) -> dict[str, str]:
    """The headers of a call made as this account."""
    granted = ok(
        client, "POST", "/roster/auth/token", data={"username": username, "password": password}
    )
    return {"Authorization": f"Bearer {granted['access_token']}"}


def seed_city(client: httpx.Client, headers: dict[str, str]) -> City:
    """Register the units, members, links, accounts and contacts (as the members log them)."""
    units = {name: str(uuid.uuid4()) for name, _, _ in UNITS}
    for name, kind, parent in UNITS:
        body: dict[str, Any] = {"unit_id": units[name], "name": name, "kind": kind}
        if parent:
            body["parent_unit_id"] = units[parent]
        ok(client, "POST", "/roster/units", headers=headers, json=body)
    city = City(units, {}, {}, {}, {})
    for number, (name, tier, unit) in enumerate(PEOPLE):
        member = str(uuid.uuid4())
        city.members[name], city.tiers[name], city.unit_of[name] = member, tier, unit
        city.phones[name] = f"1391234{number:04d}"
        body = {
            "member_id": member,
            "unit_id": units[unit],
            "tier": tier,
            "name": name,
            "phone": city.phones[name],
            "external_number": f"YQ-{number:03d}",
            "registered_on": "2025-11-01",
        }
        ok(client, "POST", "/roster/members", headers=headers, json=body)
    for upper, lower in LINKS:
        body = {
            "upper_member_id": city.members[upper],
            "lower_member_id": city.members[lower],
            "assigned_on": LINKED_ON,
        }
        ok(client, "POST", "/roster/links", headers=headers, json=body)
        city.links.append((upper, lower))
    for number, name in enumerate(ACCOUNTS):
        username = f"staff-test-{number}"
        body = {
            "username": username,
            "password": PASSWORD,
            "role": "member",
            "member_id": city.members[name],
        }
        ok(client, "POST", "/roster/accounts", headers=headers, json=body)
        city.accounts[name] = username
    wait_for_links(client, headers, city)
    for upper, lower, day in CONTACTS:
        body = {
            "upper_member_id": city.members[upper],
            "lower_member_id": city.members[lower],
            "contacted_on": day,
            "method": "visit",
        }
        ok(
            client,
            "POST",
            "/contacts/contacts",
            headers=token(client, city.accounts[upper]),
            json=body,
        )
    wait_for_reports(client, headers, len(CONTACTS))
    return city


def wait_for_links(client: httpx.Client, headers: dict[str, str], city: City) -> None:
    """The contacts service learns the links from the roster's events: wait until it has."""
    for _ in range(150):
        answer = client.get(f"/contacts/members/{city.members['陈红']}/links", headers=headers)
        if answer.status_code == 200 and len(answer.json()) == 3:
            return
        time.sleep(0.1)
    pytest.fail("the contacts service never saw the links")


def wait_for_reports(client: httpx.Client, headers: dict[str, str], contacts: int) -> None:
    """The reports service counts the contacts from the contacts' events: wait until it has."""
    for _ in range(150):
        answer = client.get("/reports/compliance", params={"period": "2026"}, headers=headers)
        if answer.status_code == 200:
            links = answer.json()["data"]
            if len(links) == len(LINKS) and sum(link["counted"] for link in links) == contacts:
                return
        time.sleep(0.1)
    pytest.fail("the reports service never counted the contacts")
