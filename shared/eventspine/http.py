"""What every service's HTTP API shares: the command context and the error answers.

Errors follow one shape: ``{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`` for 422
(the same shape FastAPI uses for request validation) and ``{"detail": "...", "code": ...}`` for
409. A refused command stores nothing.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse

from eventspine.crypto import KeyDestroyedError
from eventspine.errors import (
    ConcurrencyError,
    DomainError,
    IdempotencyConflictError,
    InvalidEventError,
)
from eventspine.store.base import CommandContext


def command_context(
    x_actor: Annotated[
        str | None, Header(description="who acts (member or staff id); replaced by sign-in")
    ] = None,
    idempotency_key: Annotated[
        uuid.UUID | None,
        Header(description="client-chosen UUID: a retry with the same key changes nothing"),
    ] = None,
    x_correlation_id: Annotated[
        uuid.UUID | None, Header(description="ties together what one user action caused")
    ] = None,
) -> CommandContext:
    """The :class:`CommandContext` of an HTTP command, from its headers."""
    return CommandContext(
        actor=x_actor or "anonymous",
        correlation_id=x_correlation_id or uuid.uuid4(),
        command_id=idempotency_key,
    )


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidEventError)
    loc = ["body", *exc.field.split(".")]
    return JSONResponse(
        status_code=422,
        content={"detail": [{"loc": loc, "msg": exc.reason, "type": "value_error"}]},
    )


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    code = (
        "idempotency_conflict" if isinstance(exc, IdempotencyConflictError) else "version_conflict"
    )
    return JSONResponse(status_code=409, content={"detail": str(exc), "code": code})


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if exc.status == 422:
        loc = ["body", *exc.field.split(".")]
        detail = [{"loc": loc, "msg": exc.reason, "type": "value_error"}]
        return JSONResponse(status_code=422, content={"detail": detail})
    code = "not_found" if exc.status == 404 else "state_conflict"
    return JSONResponse(
        status_code=exc.status, content={"detail": exc.reason, "field": exc.field, "code": code}
    )


async def _forgotten(request: Request, exc: Exception) -> JSONResponse:
    # A concurrent forget won the race: the subject's data may not be written again.
    return JSONResponse(
        status_code=409, content={"detail": "the member was forgotten", "code": "forgotten"}
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map the platform's errors to HTTP answers on ``app``."""
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(KeyDestroyedError, _forgotten)
    app.add_exception_handler(InvalidEventError, _invalid)
    app.add_exception_handler(ConcurrencyError, _conflict)
    app.add_exception_handler(IdempotencyConflictError, _conflict)
