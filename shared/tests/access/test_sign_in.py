"""Sign-in and accounts on the roster service: passwords, throttling, roles, system tokens,
and the first admin from the command line, on both backends."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from eventspine.config import Settings
from roster.main import create_app
from support.auth import STAFF
from support.pg import topology_settings

ROOT = Path(__file__).resolve().parents[3]


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = datetime(2026, 6, 30, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@asynccontextmanager
async def roster(settings: Settings, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster") as client:
            yield client


@pytest.fixture(params=["postgres", "sqlite"])
async def settings(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Settings]:
    """The roster's settings on each backend, with a low throttle for the test."""
    if request.param == "sqlite":
        yield Settings(store_backend="sqlite", sqlite_dir=str(tmp_path), login_max_failures=3)
        return
    dsn: str = request.getfixturevalue("pg_dsn")
    # The full topology: the roster also follows the contacts topic (its contact dates).
    bootstrap: str = request.getfixturevalue("kafka_bootstrap")
    async with topology_settings(dsn, bootstrap, "a") as full:
        yield full.model_copy(update={"login_max_failures": 3})


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/auth/token", data={"username": username, "password": password})


async def representative(client: httpx.AsyncClient, tier: str = "representative") -> str:
    unit = str(uuid.uuid4())
    created = await client.post(
        "/units",
        headers=STAFF,
        json={"unit_id": unit, "name": "阳泉市总工会", "kind": "city_federation"},
    )
    assert created.status_code == 201, created.text
    member = str(uuid.uuid4())
    answer = await client.post(
        "/members",
        headers=STAFF,
        json={
            "member_id": member,
            "unit_id": unit,
            "tier": tier,
            "name": "张东峰",
            "external_number": f"YJ-{member[:6]}",
            "registered_on": "2019-03-01",
        },
    )
    assert answer.status_code == 201, answer.text
    return member


async def open_account(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/accounts", headers=STAFF, json=body)


async def test_a_member_signs_in_and_the_token_acts_as_them(settings: Settings) -> None:
    clock = Clock()
    async with roster(settings, clock) as client:
        member = await representative(client)
        opened = await open_account(
            client,
            username="zhang.df",
            password="矿工代表-2019-yj",
            role="member",
            member_id=member,
        )
        assert opened.status_code == 201, opened.text
        assert "password" not in opened.text
        answer = await sign_in(client, "zhang.df", "矿工代表-2019-yj")
        assert answer.status_code == 200, answer.text
        signed = answer.json()
        assert (signed["role"], signed["member_id"]) == ("member", member)
        assert signed["expires_in"] == settings.token_minutes * 60
        me = {"Authorization": f"Bearer {signed['access_token']}"}
        who = (await client.get("/auth/me", headers=me)).json()
        assert who["account_id"] == opened.json()["account_id"]
        assert (await client.get(f"/members/{member}", headers=me)).status_code == 200
        # A member does not keep the roster: a command is refused before it is decided.
        unit = {"name": "新工会", "kind": "enterprise_union"}
        assert (await client.post("/units", headers=me, json=unit)).status_code == 403
        # The token runs out with the clock.
        clock.now += timedelta(minutes=settings.token_minutes)
        expired = await client.get(f"/members/{member}", headers=me)
        assert expired.status_code == 401
        assert "expired" in expired.json()["detail"]


async def test_failed_sign_ins_are_throttled_per_username(settings: Settings) -> None:
    clock = Clock()
    async with roster(settings, clock) as client:
        opened = await open_account(
            client, username="staff.two", password="the-right-password", role="admin"
        )
        assert opened.status_code == 201
        for _ in range(settings.login_max_failures):
            wrong = await sign_in(client, "staff.two", "not-the-password")
            assert wrong.status_code == 401
            assert wrong.json()["detail"] == "wrong username or password"
        # Unknown usernames answer exactly like wrong passwords.
        unknown = await sign_in(client, "nobody.here", "whatever-password")
        assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())
        # Now even the right password waits; the answer says how long.
        throttled = await sign_in(client, "staff.two", "the-right-password")
        assert throttled.status_code == 429, throttled.text
        assert int(throttled.headers["Retry-After"]) == settings.login_window_seconds
        clock.now += timedelta(seconds=settings.login_window_seconds + 1)
        assert (await sign_in(client, "staff.two", "the-right-password")).status_code == 200


async def test_accounts_refuse_bad_input_and_keep_one_admin(settings: Settings) -> None:
    async with roster(settings, Clock()) as client:
        worker = await representative(client, "worker")

        async def refused(status: int, field: str, code: str, **body: Any) -> None:
            answer = await open_account(client, **body)
            assert answer.status_code == status, answer.text
            problem = answer.json()
            assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, code)]

        await refused(
            422, "password", "too_short", username="short.pw", password="短", role="admin"
        )
        await refused(
            422,
            "username",
            "pattern_mismatch",
            username="x",
            password="long-enough-pw",
            role="admin",
        )
        await refused(
            422,
            "member_id",
            "required",
            username="no.member",
            password="long-enough-pw",
            role="member",
        )
        await refused(
            404,
            "member_id",
            "member_not_found",
            username="ghost",
            password="long-enough-pw",
            role="member",
            member_id=str(uuid.uuid4()),
        )
        await refused(
            409,
            "member_id",
            "worker_no_account",
            username="a.worker",
            password="long-enough-pw",
            role="member",
            member_id=worker,
        )
        await refused(
            422, "scopes.0", "not_one_of", username="city.sys", role="system", scopes=["everything"]
        )
        listed = (await client.get("/accounts", headers=STAFF)).json()
        assert listed == {"data": [], "count": 0}  # nothing refused was stored

        first = await open_account(
            client, username="first.admin", password="first-admin-pw", role="admin"
        )
        taken = await open_account(
            client, username="first.admin", password="another-admin-pw", role="admin"
        )
        assert taken.status_code == 409
        account = first.json()["account_id"]
        last = await client.post(f"/accounts/{account}/disabling", headers=STAFF)
        assert last.status_code == 409, last.text
        await open_account(
            client, username="second.admin", password="second-admin-pw", role="admin"
        )
        disabled = await client.post(f"/accounts/{account}/disabling", headers=STAFF)
        assert disabled.json()["disabled_at"] is not None
        assert (await sign_in(client, "first.admin", "first-admin-pw")).status_code == 401


async def test_a_city_system_reads_with_an_issued_scoped_token(settings: Settings) -> None:
    async with roster(settings, Clock()) as client:
        opened = await open_account(
            client, username="city.hr", role="system", scopes=["roster:read"]
        )
        assert opened.status_code == 201, opened.text
        issued = await client.post(
            f"/accounts/{opened.json()['account_id']}/tokens", headers=STAFF, json={"days": 30}
        )
        assert issued.status_code == 201, issued.text
        system = {"Authorization": f"Bearer {issued.json()['access_token']}"}
        assert (await client.get("/units", headers=system)).status_code == 200
        body = {"name": "新工会", "kind": "enterprise_union"}
        assert (await client.post("/units", headers=system, json=body)).status_code == 403
        assert (await client.get("/accounts", headers=system)).status_code == 403
        # A system client has no password to sign in with.
        assert (await sign_in(client, "city.hr", "")).status_code in (401, 422)


def _cli(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SANLIAN_STORE_BACKEND": settings.store_backend,
        "SANLIAN_SQLITE_DIR": settings.sqlite_dir,
        "SANLIAN_PG_DSN": settings.pg_dsn,
        "SANLIAN_PG_SCHEMA_PREFIX": settings.pg_schema_prefix,
    }
    command = [sys.executable, "-m", "access", *args]
    return subprocess.run(
        command, input=stdin, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )


async def test_the_first_admin_comes_from_the_command_line(settings: Settings) -> None:
    made = _cli(
        settings,
        "create-admin",
        "--username",
        "chair",
        "--password-stdin",
        stdin="a-chairs-password\n",
    )
    assert made.returncode == 0, made.stderr
    assert "a-chairs-password" not in made.stdout + made.stderr
    again = _cli(
        settings,
        "create-admin",
        "--username",
        "chair",
        "--password-stdin",
        stdin="a-chairs-password\n",
    )
    assert again.returncode == 1
    assert "already taken" in again.stderr
    short = _cli(settings, "create-admin", "--username", "other", "--password-stdin", stdin="x\n")
    assert short.returncode == 2
    ensured = _cli(settings, "ensure-admin")
    assert ensured.returncode == 0, ensured.stderr
    assert "exists already" in ensured.stdout
    async with roster(settings, Clock()) as client:
        answer = await sign_in(client, "chair", "a-chairs-password")
        assert answer.status_code == 200, answer.text
        assert answer.json()["role"] == "admin"


async def test_ensure_admin_prints_a_generated_password_once(tmp_path: Path) -> None:
    settings = Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))
    first = _cli(settings, "ensure-admin")
    assert first.returncode == 0, first.stderr
    password = first.stdout.split("password: ", 1)[1].split()[0]
    assert "exists already" in _cli(settings, "ensure-admin").stdout
    async with roster(settings, Clock()) as client:
        assert (await sign_in(client, "admin", password)).status_code == 200
