"""Every route of every service, asked by every kind of caller: 401 or 403 where it must be,
never a 5xx, never another part of the tree for a member, never a secret in an answer or a log.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from access.principal import Role
from eventspine.config import Settings
from support.auth import token
from support.city import NOW, Branch, embedded_city

SERVICES = ("roster", "contacts", "feedback", "reports")
PUBLIC = {
    ("POST", "/auth/token"),
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
    ("GET", "/problems"),  # the refusals' catalogue, which a problem document's type names
    ("GET", "/problems/{code}"),
    # A worker's pages: the signed intake link and the follow-up code are the credentials.
    ("GET", "/intake/{token}"),
    ("POST", "/intake/{token}/suggestions"),
    ("GET", "/follow-up/{code}"),
    ("POST", "/follow-up/{code}/rating"),
    # The federation's tag vocabulary: the workers' intake page offers it to anyone.
    ("GET", "/tags"),
}
READS = {"GET", "HEAD"}
QUERY = {"period": "2026", "q": "平定县", "member_id": "00000000-0000-4000-8000-000000000000"}
NOT_FOR_MEMBERS = {
    ("roster", "/members/unlinked"),
    ("roster", "/members/over-span"),
    ("roster", "/members/names"),
    ("reports", "/compliance/exposure"),
    ("reports", "/admin/rebuild"),
    ("feedback", "/federation/inbox"),  # the member in the matrix is not a leader
    ("reports", "/satisfaction"),
    ("reports", "/themes"),
}
"""City-wide lists: for staff, auditors and systems, not for members."""


@dataclass(frozen=True)
class Caller:
    """One kind of caller in the matrix."""

    name: str
    role: Role | None
    headers: dict[str, str]


def _tampered(original: str) -> str:
    """A member's token with its role claim changed to admin (the signature no longer fits)."""
    head, payload, signature = original.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{signature}"


def callers(a: Branch) -> list[Caller]:
    """No token, bad tokens, and each role (the member is branch A's representative)."""
    rep = a.members["representative"]
    member_token = token("member", rep)
    other_secret = Settings(auth_secret="another-federation-entirely-0123456789").model_copy()
    bad = {
        "expired": token("admin", issued=NOW - timedelta(hours=2), lifetime=timedelta(hours=1)),
        "tampered": _tampered(member_token),
        "foreign": token("admin", settings=other_secret),
        "garbage": "not-a-token",
    }
    found = [Caller("no token", None, {})]
    found += [Caller(name, None, {"Authorization": f"Bearer {t}"}) for name, t in bad.items()]
    found += [
        Caller("admin", "admin", {"Authorization": f"Bearer {token('admin')}"}),
        Caller("auditor", "auditor", {"Authorization": f"Bearer {token('auditor')}"}),
        Caller(
            "system",
            "system",
            {"Authorization": f"Bearer {token('system', scopes={'reports:read'})}"},
        ),
        Caller("member", "member", {"Authorization": f"Bearer {member_token}"}),
    ]
    return found


def _fill(path: str, b: Branch, account_id: str) -> tuple[str, bool]:
    """The path with branch B's ids in it, and whether it names anything of branch B's."""
    values = {
        "member_id": b.members["representative"],
        "link_id": b.links[-1],
        "contact_id": b.contacts[0],
        "suggestion_id": b.suggestions[0],
        "unit_id": b.unit,
        "account_id": account_id,
        "code": "span_full",
        "owner_id": b.members["representative"],
        "token": "not-a-signed-link",
    }
    names = re.findall(r"{(\w+)}", path)
    unknown = set(names) - set(values)
    assert not unknown, f"the matrix has no value for {unknown} in {path}"
    filled = path
    for name in names:
        filled = filled.replace(f"{{{name}}}", values[name])
    return filled, bool(set(names) - {"unit_id", "account_id", "code", "token"})


def expected(caller: Caller, service: str, method: str, path: str, names_b: bool) -> set[int]:
    """The answers the caller may get; an empty set means "anything but a 5xx, 401, 403"."""
    if (method, path) in PUBLIC:
        return set()
    if caller.role is None:
        return {401}
    read = method in READS
    if (method, path) == ("GET", "/auth/me"):
        return set()  # any valid token may ask who it signs in
    if caller.role in ("auditor", "system") and not read:
        return {403}
    if caller.role == "system" and service != "reports":
        return {403}
    if caller.role == "admin" and service == "feedback" and not read:
        return {403}  # only members of the tree act on suggestions
    if service == "roster" and path.startswith("/accounts") and caller.role != "admin":
        return {403}  # staff manage accounts; others change only their own password
    if (service, path) in NOT_FOR_MEMBERS and caller.role == "member":
        return {403}
    if caller.role == "member":
        if not read and service in ("roster", "reports"):
            return {403}
        if names_b:
            return {403, 404} if read else {403, 404, 422}
    return set()


async def test_every_route_answers_every_caller_as_it_must(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    async with embedded_city(tmp_path) as (client, a, b):
        secrets = {Settings().auth_secret}
        admin_account = await client.post(
            "/roster/accounts",
            headers={"Authorization": f"Bearer {token('admin')}"},
            json={"username": "staff.one", "password": "a-long-staff-password", "role": "admin"},
        )
        assert admin_account.status_code == 201, admin_account.text
        secrets.add("a-long-staff-password")
        account_id = admin_account.json()["account_id"]
        everyone = callers(a)
        secrets.update(c.headers["Authorization"].split()[1] for c in everyone if c.headers)
        checked, outcomes = 0, []
        for service in SERVICES:
            spec = (await client.get(f"/{service}/openapi.json")).json()
            for path, operations in spec["paths"].items():
                for method, operation in operations.items():
                    method = method.upper()
                    url, names_b = _fill(path, b, account_id)
                    params = {
                        p["name"]: QUERY[p["name"]]
                        for p in operation.get("parameters", [])
                        if p["in"] == "query" and p.get("required")
                    }
                    for caller in everyone:
                        answer = await client.request(
                            method,
                            f"/{service}{url}",
                            params=params,
                            headers=caller.headers,
                            json={} if method not in READS else None,
                        )
                        checked += 1
                        where = f"{caller.name}: {method} /{service}{path} -> {answer.status_code}"
                        outcomes.append(where)
                        assert answer.status_code < 500, f"{where}: {answer.text}"
                        allowed = expected(caller, service, method, path, names_b)
                        if allowed:
                            assert answer.status_code in allowed, f"{where}: {answer.text}"
                        elif (method, path) not in PUBLIC:
                            assert answer.status_code not in (401, 403), f"{where}: {answer.text}"
                        if answer.status_code == 401:
                            assert answer.headers["WWW-Authenticate"] == "Bearer"
                        for secret in secrets:
                            assert secret not in answer.text, f"{where} shows a secret"
                        if caller.role == "member" and answer.status_code < 300:
                            leaked = {i for i in b.ids() if i in answer.text}
                            assert not leaked, f"{where} shows branch B: {leaked}"
        # 4 services' routes x 9 callers: the walk really covered the API.
        assert checked >= 9 * 60, outcomes[-5:]
    printed = capsys.readouterr()
    logged = caplog.text + printed.out + printed.err
    assert "http.request" in logged  # the request log was captured, and holds no secret
    for secret in secrets:
        assert secret not in logged


async def test_a_member_sees_their_own_part_of_the_tree(tmp_path: Path) -> None:
    async with embedded_city(tmp_path) as (client, a, _b):
        rep = a.members["representative"]
        me = {"Authorization": f"Bearer {token('member', rep)}"}
        mine = [
            f"/roster/members/{rep}",
            f"/roster/members/{a.members['committee']}",  # my upper contact
            f"/roster/members/{a.members['worker']}",
            f"/roster/members/{rep}/chain",
            f"/contacts/members/{rep}/due",
            f"/contacts/links/{a.links[-1]}/card",
            f"/contacts/contacts/{a.contacts[0]}",
            f"/feedback/suggestions/{a.suggestions[0]}",
            f"/feedback/members/{rep}/suggestions",
        ]
        for url in mine:
            answer = await client.get(url, headers=me)
            assert answer.status_code == 200, f"{url}: {answer.text}"
        found = await client.get("/roster/members", params={"q": "县"}, headers=me)
        assert {m["member_id"] for m in found.json()["data"]} == {rep, a.members["worker"]}
        report = await client.get("/reports/compliance", params={"period": "2026"}, headers=me)
        links = {row["link_id"] for row in report.json()["data"]}
        # their own link to the worker, and the link from their committee member to them
        assert links == set(a.links[-2:])
        queue = await client.get("/reports/escalation-queue", headers=me)
        assert [i["suggestion_id"] for i in queue.json()["data"]] == a.suggestions
