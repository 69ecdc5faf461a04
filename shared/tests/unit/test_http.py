"""The shared HTTP layer turns platform errors into clear 4xx answers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import asyncpg
import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import BaseModel

from access.guard import install_tokens
from access.tokens import TokenService
from eventspine.config import Settings
from eventspine.events import EventRegistry
from eventspine.store.base import CommandContext, utc_now
from eventspine.store.sqlite import SqliteEventStore
from servicekit.http import command_context, install_error_handlers
from support.auth import STAFF, NothingRevoked
from support.sample import unit


class Rename(BaseModel):
    expected_version: int
    name: str


@pytest.fixture
async def client(tmp_path: Path, registry: EventRegistry) -> AsyncIterator[httpx.AsyncClient]:
    store = SqliteEventStore(str(tmp_path / "s.sqlite"), "roster", registry)
    await store.open()
    app = FastAPI()
    install_error_handlers(app)
    install_tokens(
        app.state, TokenService(Settings().auth_secret), utc_now, lambda: NothingRevoked()
    )

    @app.post("/units/{unit_id}")
    async def register(
        unit_id: str, body: Rename, ctx: Annotated[CommandContext, Depends(command_context)]
    ) -> dict[str, int]:
        event = unit().model_copy(update={"name": body.name})
        recorded = await store.append(unit_id, body.expected_version, [event], ctx)
        return {"version": recorded[-1].stream_version}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=STAFF
    ) as http:
        yield http
    await store.close()


async def test_a_version_clash_is_a_409_that_says_why(client: httpx.AsyncClient) -> None:
    assert (await client.post("/units/u-1", json={"expected_version": 0, "name": "A"})).json() == {
        "version": 1
    }
    answer = await client.post("/units/u-1", json={"expected_version": 0, "name": "B"})
    assert answer.status_code == 409
    assert answer.json()["code"] == "version_conflict"
    assert "is at version 1, not the expected 0" in answer.json()["detail"]


async def test_an_invalid_payload_is_a_422_naming_the_field(client: httpx.AsyncClient) -> None:
    answer = await client.post("/units/u-1", json={"expected_version": 0, "name": ""})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "invalid_request"
    assert problem["type"] == "/problems/invalid_request"
    assert problem["field"] == "data.name"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("data.name", "invalid_value")]


async def test_a_retry_with_the_same_idempotency_key_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": str(uuid.uuid4()), **STAFF}
    body = {"expected_version": 0, "name": "A"}
    first = await client.post("/units/u-1", json=body, headers=headers)
    retry = await client.post("/units/u-1", json=body, headers=headers)
    assert first.status_code == retry.status_code == 200
    again = await client.post("/units/u-1", json={"expected_version": 1, "name": "B"})
    assert again.json() == {"version": 2}


async def test_an_unreachable_database_is_a_503_to_retry() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/down")
    async def down() -> None:
        raise ConnectionRefusedError("connection refused")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.get("/down")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["code"] == "unavailable"


async def test_a_connection_closed_in_the_middle_of_a_transaction_is_a_503_too() -> None:
    # What asyncpg raises when the server shuts down under a transaction: the transaction's
    # exit fails with InterfaceError, the connection's loss being its context.
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/closed")
    async def closed() -> None:
        try:
            raise asyncpg.exceptions.ConnectionDoesNotExistError(
                "connection was closed in the middle of operation"
            )
        except asyncpg.exceptions.ConnectionDoesNotExistError:
            raise asyncpg.exceptions.InterfaceError(
                "cannot call Transaction.__aexit__(): the underlying connection is closed"
            ) from None

    @app.get("/closing")
    async def closing() -> None:
        # The rollback of a transaction whose connection the server is terminating.
        try:
            raise asyncpg.exceptions.ConnectionDoesNotExistError(
                "connection was closed in the middle of operation"
            )
        except asyncpg.exceptions.ConnectionDoesNotExistError:
            raise asyncpg.exceptions.InternalClientError(
                "cannot switch to state 15; another operation (2) is in progress"
            ) from None

    @app.get("/misused")
    async def misused() -> None:
        raise asyncpg.exceptions.InterfaceError("another operation is in progress")

    @app.get("/terminated")
    async def terminated() -> None:
        # A statement on a pool connection the server is terminating, with no error before.
        raise asyncpg.exceptions.InternalClientError(
            "cannot switch to state 12; another operation (2) is in progress"
        )

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.get("/closed")
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "1"
        closing_answer = await http.get("/closing")
        assert closing_answer.status_code == 503
        assert closing_answer.headers["Retry-After"] == "1"
        assert (await http.get("/misused")).status_code == 500  # a bug stays a 500
        assert (await http.get("/terminated")).status_code == 503


async def test_a_crashed_server_or_a_broken_link_is_a_503_too() -> None:
    # A crash (57P02) ends every session; a broken link (08006) ends one: either way nothing
    # of the transaction was committed, and the request sent again goes through.
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/crashed")
    async def crashed() -> None:
        raise asyncpg.exceptions.CrashShutdownError("the database system is in recovery mode")

    @app.get("/broken")
    async def broken() -> None:
        raise asyncpg.exceptions.ConnectionFailureError("connection failure")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        for path in ("/crashed", "/broken"):
            answer = await http.get(path)
            assert answer.status_code == 503, path
            assert answer.headers["Retry-After"] == "1"
            assert answer.json()["code"] == "unavailable"
