"""Revoked tokens: the table every replica keeps, and the guard's refusal, to the microsecond."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated
from uuid import UUID

import aiosqlite
import httpx
import pytest
from fastapi import Depends, FastAPI

from access.guard import authenticate, install_tokens
from access.principal import Principal
from access.revocations import RevokedTokens, RevokedTokensReader
from access.tokens import TokenService
from eventspine.bus import SqliteTx
from eventspine.envelope import RecordedEvent
from eventspine.events import EventRegistry
from eventspine.projection import deliver
from eventspine.store.base import CommandContext
from eventspine.store.sqlite import SqliteEventStore
from roster.events import AccountDisabled, AccountPasswordChanged
from servicekit.http import install_error_handlers
from support.sample import unit

SECRET = "a-test-secret-that-is-long-enough-0123456789"
REVOKED_AT = datetime(2026, 6, 30, 9, 0, 0, 500_000, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


@pytest.fixture
async def recorded(tmp_path: Path, registry: EventRegistry) -> AsyncIterator[list[RecordedEvent]]:
    """A password change, then a later disabling of one account, and an unrelated event."""
    store = SqliteEventStore(str(tmp_path / "roster.sqlite"), "roster", registry)
    await store.open()
    account = uuid.uuid4()
    ctx = CommandContext(actor="account:test")
    changed = AccountPasswordChanged(account_id=account, changed_at=REVOKED_AT)
    disabled = AccountDisabled(account_id=account, disabled_at=REVOKED_AT + timedelta(hours=1))
    await store.append(f"account-{account}", 0, [changed, disabled], ctx)
    await store.append("unit-1", 0, [unit()], ctx)
    yield await store.read_all()
    await store.close()


@pytest.fixture
async def tx(tmp_path: Path) -> AsyncIterator[SqliteTx]:
    async with aiosqlite.connect(str(tmp_path / "replica.sqlite"), isolation_level=None) as db:
        yield SqliteTx(db)


async def test_the_latest_revocation_wins_in_any_order_and_a_reset_forgets(
    recorded: list[RecordedEvent], tx: SqliteTx, registry: EventRegistry
) -> None:
    table, reader = RevokedTokens(), RevokedTokensReader(tx)
    await table.setup(tx)
    account = UUID(recorded[0].data["account_id"])
    later = REVOKED_AT + timedelta(hours=1)
    delivered = [deliver(event, registry) for event in recorded]
    for event in reversed(delivered):  # a replay may bring the disabling first
        await table.apply(tx, event)
    assert await reader.revoked_until(account) == later
    for event in delivered:  # applied again in order: still the later moment
        await table.apply(tx, event)
    assert await reader.revoked_until(account) == later
    assert await tx.fetchval("SELECT count(*) FROM revoked_tokens") == 1  # the unit: no row
    assert await reader.revoked_until(uuid.uuid4()) is None
    await table.reset(tx)
    assert await reader.revoked_until(account) is None


class Revoked:
    """A replica that revoked one account's tokens at :data:`REVOKED_AT`."""

    def __init__(self, account_id: UUID) -> None:
        self.account_id = account_id

    async def revoked_until(self, account_id: UUID) -> datetime | None:
        return REVOKED_AT if account_id == self.account_id else None


@pytest.fixture
def principal() -> Principal:
    return Principal(uuid.uuid4(), "member", uuid.uuid4())


@pytest.fixture
async def client(principal: Principal) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)  # refusals as every service answers them
    revoked = Revoked(principal.account_id)
    install_tokens(
        app.state, TokenService(SECRET), lambda: REVOKED_AT + timedelta(hours=1), lambda: revoked
    )

    @app.get("/me")
    async def me(caller: Annotated[Principal, Depends(authenticate)]) -> str:
        return str(caller.account_id)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_tokens_issued_up_to_the_revocation_are_refused_and_later_ones_work(
    client: httpx.AsyncClient, principal: Principal
) -> None:
    tokens = TokenService(SECRET)
    lifetime = timedelta(hours=8)

    async def ask(issued: datetime, who: Principal = principal) -> httpx.Response:
        token = tokens.issue(who, issued, lifetime)
        return await client.get("/me", headers={"Authorization": f"Bearer {token}"})

    for issued in (REVOKED_AT - timedelta(hours=1), REVOKED_AT - MICROSECOND, REVOKED_AT):
        answer = await ask(issued)
        assert answer.status_code == 401, issued
        assert answer.json()["code"] == "token_revoked"
    # Within the same second as the revocation, but after it: a new sign-in's token.
    assert (await ask(REVOKED_AT + MICROSECOND)).status_code == 200
    # Another account's tokens are untouched.
    other = Principal(uuid.uuid4(), "admin")
    assert (await ask(REVOKED_AT - timedelta(hours=1), other)).status_code == 200


def test_a_token_tells_its_issue_time_to_the_microsecond(principal: Principal) -> None:
    tokens = TokenService(SECRET)
    issued = datetime(2026, 6, 30, 9, 0, 0, 123_457, tzinfo=UTC)
    checked = tokens.check(tokens.issue(principal, issued, timedelta(hours=1)), issued)
    assert checked.issued_at == issued
    assert checked.principal == principal
