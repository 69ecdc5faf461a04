"""Revoked tokens, end to end on both backends: disabling an account, or changing its
password, makes the tokens issued until then fail on every service once its replica has the
roster's event, while every other token keeps working and a new sign-in works."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from contacts.main import create_app as contacts_app
from eventspine.config import Settings
from eventspine.kafka import ensure_topics, make_producer
from eventspine.relay import Relay
from eventspine.store.base import utc_now
from feedback.main import create_app as feedback_app
from reports.main import create_app as reports_app
from roster.handlers import account_stream
from roster.main import create_app as roster_app
from support.auth import STAFF
from support.pg import topology_settings
from web.main import audit_app

pytestmark = pytest.mark.integration

REVOKED = "this token was revoked"


@dataclass
class System:
    """Every service's app on one backend, a client for each, and how to let the replicas
    catch up with the roster (through Kafka on PostgreSQL)."""

    apps: dict[str, FastAPI]
    clients: dict[str, httpx.AsyncClient]
    relay: Relay | None

    @property
    def roster(self) -> httpx.AsyncClient:
        return self.clients["roster"]

    async def sync(self) -> None:
        """Publish the roster's events and wait until every replica has applied them."""
        if self.relay is not None:
            await self.relay.drain()
        state = {name: getattr(app.state, name) for name, app in self.apps.items()}
        assert await state["contacts"].feed.catch_up(60.0)
        assert await state["feedback"].feed.catch_up(60.0)
        assert await state["reports"].feed.catch_up(60.0)

    async def reads(self, token: str, member_id: str) -> dict[str, httpx.Response]:
        """One read a member may make on each service, with ``token``."""
        headers = {"Authorization": f"Bearer {token}"}
        paths = {
            "roster": "/auth/me",
            "contacts": f"/members/{member_id}/due",
            "feedback": f"/members/{member_id}/inbox",
            "reports": "/compliance?period=2026",
        }
        return {
            name: await self.clients[name].get(path, headers=headers)
            for name, path in paths.items()
        }


@pytest.fixture(params=["postgres", "sqlite"])
async def settings(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Settings]:
    if request.param == "sqlite":
        yield Settings(store_backend="sqlite", sqlite_dir=str(tmp_path))
        return
    dsn: str = request.getfixturevalue("pg_dsn")
    bootstrap: str = request.getfixturevalue("kafka_bootstrap")
    async with topology_settings(dsn, bootstrap, "t") as full:
        yield full


@asynccontextmanager
async def system(settings: Settings) -> AsyncIterator[System]:
    # The wall clock: the tokens' issue times are the roster's, and a token issued after a
    # password change must be later than the change.
    apps = {
        "roster": roster_app(settings, utc_now),
        "contacts": contacts_app(settings, utc_now),
        "feedback": feedback_app(settings, utc_now),
        "reports": reports_app(settings, utc_now),
    }
    async with AsyncExitStack() as stack:
        clients = {}
        for name, app in apps.items():  # the roster first: the others read its events
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            clients[name] = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url=f"http://{name}")
            )
        relay = None
        if settings.store_backend == "postgres":
            await ensure_topics(settings, [settings.topic("roster")])
            producer: AIOKafkaProducer = make_producer(settings)
            await producer.start()
            stack.push_async_callback(producer.stop)
            relay = Relay(apps["roster"].state.roster.store, producer, settings.topic("roster"))
        yield System(apps, clients, relay)


async def ok(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> Any:
    answer = await client.request(method, url, headers=STAFF, **kw)
    assert answer.status_code in (200, 201, 202, 204), f"{method} {url}: {answer.text}"
    return answer.json() if answer.content else None


async def member_account(roster: httpx.AsyncClient, unit: str, n: int) -> tuple[str, str, str]:
    """A representative with an account: (member id, account id, username)."""
    member = str(uuid.uuid4())
    await ok(
        roster,
        "POST",
        "/members",
        json={
            "member_id": member,
            "unit_id": unit,
            "tier": "representative",
            "name": f"代表{n}",
            "external_number": f"R-{n}",
            "registered_on": "2025-01-01",
        },
    )
    username = f"rep{n}-{member[:8]}"
    account = await ok(
        roster,
        "POST",
        "/accounts",
        json={
            "username": username,
            "password": "correct horse battery staple",
            "role": "member",
            "member_id": member,
        },
    )
    return member, account["account_id"], username


async def sign_in(roster: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await roster.post("/auth/token", data={"username": username, "password": password})


async def token_of(roster: httpx.AsyncClient, username: str, password: str) -> str:
    answer = await sign_in(roster, username, password)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def statuses(answers: dict[str, httpx.Response]) -> dict[str, int]:
    return {name: answer.status_code for name, answer in answers.items()}


EVERYWHERE_OK = {"roster": 200, "contacts": 200, "feedback": 200, "reports": 200}
EVERYWHERE_REFUSED = {"roster": 401, "contacts": 401, "feedback": 401, "reports": 401}


async def test_a_disabled_accounts_token_is_refused_by_every_service(settings: Settings) -> None:
    async with system(settings) as s:
        unit = str(uuid.uuid4())
        await ok(
            s.roster,
            "POST",
            "/units",
            json={"unit_id": unit, "name": "阳泉市总工会", "kind": "city_federation"},
        )
        member, account, username = await member_account(s.roster, unit, 1)
        other_member, _, other_username = await member_account(s.roster, unit, 2)
        password = "correct horse battery staple"
        token = await token_of(s.roster, username, password)
        other = await token_of(s.roster, other_username, password)
        await s.sync()
        assert statuses(await s.reads(token, member)) == EVERYWHERE_OK
        assert statuses(await s.reads(other, other_member)) == EVERYWHERE_OK

        disabled = await ok(s.roster, "POST", f"/accounts/{account}/disabling")
        assert disabled["disabled_at"] is not None
        await s.sync()

        refused = await s.reads(token, member)
        assert statuses(refused) == EVERYWHERE_REFUSED
        for answer in refused.values():
            assert REVOKED in answer.json()["detail"]
            assert token not in answer.text
            assert answer.headers["WWW-Authenticate"] == "Bearer"
        # Nothing else changed: another member's token and the staff's still work.
        assert statuses(await s.reads(other, other_member)) == EVERYWHERE_OK
        assert (await s.clients["reports"].get("/overview?period=2026", headers=STAFF)).is_success
        # The frontend's audit endpoints read the roster's own table: revoked is 401 there
        # too, where a member's valid token is only refused its role (403).
        audit = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=audit_app(settings)), base_url="http://audit"
        )
        async with audit:
            for held, expected in ((token, 401), (other, 403)):
                answer = await audit.get(
                    f"/audit/history?member={member}", headers={"Authorization": f"Bearer {held}"}
                )
                assert answer.status_code == expected, answer.text
        # A disabled account cannot sign in again, even with the right password.
        assert (await sign_in(s.roster, username, password)).status_code == 401

        # The event: on the account's stream, by the acting admin, with no username in it.
        store = s.apps["roster"].state.roster.store
        [event] = await store.read_stream(account_stream(uuid.UUID(account)))
        assert event.event_type == "AccountDisabled"
        assert set(event.data) == {"account_id", "disabled_at"}
        assert event.data["account_id"] == account
        assert username not in str(event.data)
        assert event.actor.startswith("account:")
        # Disabling again records nothing more.
        await ok(s.roster, "POST", f"/accounts/{account}/disabling")
        assert len(await store.read_stream(account_stream(uuid.UUID(account)))) == 1

        # A rebuild of the reports' projections from the first event keeps the revocation.
        await ok(s.clients["reports"], "POST", "/admin/rebuild")
        deadline = time.monotonic() + 120
        while (await ok(s.clients["reports"], "GET", "/admin/rebuild"))["state"] == "running":
            assert time.monotonic() < deadline, "the rebuild did not finish"
            await s.clients["reports"].get("/overview?period=2026", headers=STAFF)
            await asyncio.sleep(0.2)
        assert (await ok(s.clients["reports"], "GET", "/admin/rebuild"))["state"] == "swapped"
        answer = (await s.reads(token, member))["reports"]
        assert answer.status_code == 401, answer.text
        assert (await s.reads(other, other_member))["reports"].status_code == 200


async def test_a_password_change_revokes_the_older_tokens_only(settings: Settings) -> None:
    async with system(settings) as s:
        unit = str(uuid.uuid4())
        await ok(
            s.roster,
            "POST",
            "/units",
            json={"unit_id": unit, "name": "阳泉市总工会", "kind": "city_federation"},
        )
        member, account, username = await member_account(s.roster, unit, 3)
        old_password, new_password = "correct horse battery staple", "a different long phrase 7"
        older = await token_of(s.roster, username, old_password)
        await s.sync()
        assert statuses(await s.reads(older, member)) == EVERYWHERE_OK

        # The member changes their own password with the token they hold (and the present
        # password: the token alone is not enough).
        change = f"/accounts/{account}/password"
        bearer = {"Authorization": f"Bearer {older}"}
        without = await s.roster.post(change, headers=bearer, json={"password": new_password})
        assert without.status_code == 422, without.text
        assert without.json()["code"] == "current_password_required"
        wrong = {"password": new_password, "current_password": "not the password at all"}
        mistaken = await s.roster.post(change, headers=bearer, json=wrong)
        assert mistaken.status_code == 409, mistaken.text
        assert mistaken.json()["code"] == "wrong_password"
        assert (await sign_in(s.roster, username, new_password)).status_code == 401
        body = {"password": new_password, "current_password": old_password}
        changed = await s.roster.post(change, headers=bearer, json=body)
        assert changed.status_code == 204, changed.text
        newer = await token_of(s.roster, username, new_password)
        assert (await sign_in(s.roster, username, old_password)).status_code == 401
        await s.sync()

        refused = await s.reads(older, member)
        assert statuses(refused) == EVERYWHERE_REFUSED
        assert all(REVOKED in answer.json()["detail"] for answer in refused.values())
        assert statuses(await s.reads(newer, member)) == EVERYWHERE_OK

        store = s.apps["roster"].state.roster.store
        [event] = await store.read_stream(account_stream(uuid.UUID(account)))
        assert event.event_type == "AccountPasswordChanged"
        assert set(event.data) == {"account_id", "changed_at"}
        assert event.actor == f"account:{account}/member:{member}"  # the member acted
