"""What every service's HTTP API shares: the command context and the error answers.

Every error is an RFC 9457 problem document with a stable code (:mod:`servicekit.problems`,
the codes in :mod:`contracts.refusals`). A refused command stores nothing. An
``Idempotency-Key`` already used for a different request is a 422 ``idempotency_key_reused``
naming the header (as the IETF draft on the header field answers it).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, Protocol, TypeVar

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from access.guard import Caller, install_tokens, service_policy
from access.revocations import Revocations
from access.tokens import TokenService
from contracts.refusals import FIELD_CODES
from eventspine.clock import utc_now
from eventspine.config import Settings
from eventspine.crypto import KeyDestroyedError
from eventspine.envelope import RecordedEvent
from eventspine.errors import (
    ConcurrencyError,
    DomainError,
    IdempotencyConflictError,
    IdempotencyKeyReusedError,
    InvalidEventError,
)
from eventspine.store.base import CommandContext
from servicekit.apidocs import install_docs
from servicekit.documents import complete_document, document_answers
from servicekit.limits import BodyLimit
from servicekit.operability import instrument
from servicekit.problems import (
    FieldProblem,
    problem_response,
    problems_router,
    validation_response,
)


async def command_context(
    principal: Caller,
    idempotency_key: Annotated[
        uuid.UUID | None,
        Header(
            description="client-chosen UUID: a retry with the same key and the same request "
            "changes nothing; the key sent with a different request is refused (422)"
        ),
    ] = None,
    x_correlation_id: Annotated[
        uuid.UUID | None, Header(description="ties together what one user action caused")
    ] = None,
) -> CommandContext:
    """The :class:`CommandContext` of an HTTP command: the signed-in account acts.

    A coroutine, though it awaits nothing: FastAPI runs a plain function dependency in its
    thread pool, and that hand-off to a thread and back cost more than the command's own work
    on each request."""
    return CommandContext(
        actor=principal.actor,
        correlation_id=x_correlation_id or uuid.uuid4(),
        command_id=idempotency_key,
    )


class RecordedRef(BaseModel):
    """One appended event."""

    event_id: uuid.UUID
    type: str
    stream_id: str
    stream_version: int
    position: int


class CommandAccepted(BaseModel):
    """A command's outcome: the events it appended (or, for a retry, had appended)."""

    events: list[RecordedRef]

    @classmethod
    def of(cls, events: Sequence[RecordedEvent]) -> CommandAccepted:
        """The answer naming ``events``, the events a command appended (``outcome.events``)."""
        return cls(events=refs(events))


def refs(events: Sequence[RecordedEvent]) -> list[RecordedRef]:
    """What an answer says of each appended event."""
    return [
        RecordedRef(
            event_id=e.id,
            type=e.type,
            stream_id=e.stream_id,
            stream_version=e.stream_version,
            position=e.position,
        )
        for e in events
    ]


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidEventError)
    error = FieldProblem(field=exc.field, code="invalid_value", detail=exc.reason)
    return problem_response(
        "invalid_request", str(exc), field=exc.field, params={"count": 1}, errors=[error]
    )


async def _conflict(request: Request, exc: Exception) -> Response:
    if isinstance(exc, IdempotencyConflictError):
        return problem_response("idempotency_conflict", str(exc), field="Idempotency-Key")
    assert isinstance(exc, ConcurrencyError)
    params = {"expected": exc.expected, "actual": exc.actual}
    return problem_response("version_conflict", str(exc), params=params)


KEY_REUSED = "idempotency_key_reused"
"""The code of the 422 answering an Idempotency-Key reused for a different request."""


async def _key_reused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotencyKeyReusedError)
    error = FieldProblem(
        field="Idempotency-Key", location="header", code=KEY_REUSED, detail=str(exc)
    )
    return problem_response(KEY_REUSED, str(exc), field="Idempotency-Key", errors=[error])


async def _domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    error = FieldProblem(
        field=exc.field,
        location=exc.location,
        code=exc.code,
        detail=exc.reason,
        params=exc.params,
    )
    if exc.code in FIELD_CODES:  # a field's own fault (a value not among the configured ones)
        return problem_response(
            "invalid_request", str(exc), field=exc.field, params={"count": 1}, errors=[error]
        )
    return problem_response(
        exc.code,
        exc.reason,
        field=exc.field,
        params=exc.params,
        errors=[error],
        headers=exc.headers,
    )


async def _forgotten(request: Request, exc: Exception) -> Response:
    # A concurrent forget won the race: the subject's data may not be written again.
    return problem_response("forgotten", "the member was forgotten")


UNAVAILABLE = (
    OSError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    # The server crashed and restarts (57P02), or the link to it broke (08006): nothing of
    # the transaction was committed.
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.ConnectionFailureError,
    # Two transactions each waited on the other: PostgreSQL rolled one back, nothing of it
    # was stored, and the same request sent again goes through.
    asyncpg.exceptions.DeadlockDetectedError,
)
"""Errors meaning the database cannot be reached right now (restart, failover, network)."""


async def _unavailable(request: Request, exc: Exception) -> Response:
    # Nothing was acknowledged, so a retry is safe (and harmless with an Idempotency-Key).
    return problem_response(
        "unavailable",
        "the service's database is unavailable; retry shortly",
        headers={"Retry-After": "1"},
    )


async def _request_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return validation_response(exc.errors())


UNSTORABLE_TEXT = (
    UnicodeEncodeError,
    asyncpg.exceptions.UntranslatableCharacterError,
    asyncpg.exceptions.CharacterNotInRepertoireError,
)
"""Valid JSON whose text no encoder or column takes (an unpaired surrogate, a NUL)."""


async def _unstorable(request: Request, exc: Exception) -> Response:
    # Command bodies refuse such text before anything is stored (eventspine.text); this
    # answers the rest (a query parameter, say) as the client's error, not the server's.
    msg = "text holds a character that cannot be stored (NUL or an unpaired surrogate)"
    return problem_response("unstorable_text", msg, params={"field": ""})


async def _http_error(request: Request, exc: Exception) -> Response:
    # Starlette's own refusals: an unknown address, a method the address does not take, a
    # body it could not parse.
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Every method the address takes, over all its routes (Starlette names only the
        # first route's).
        allowed = sorted(_methods_at(request))
        headers["Allow"] = ", ".join(allowed)
        detail = "the address does not take this method"
        return problem_response(
            "method_not_allowed", detail, params={"allowed": allowed}, headers=headers
        )
    if exc.status_code == 404:
        return problem_response("route_not_found", "no such address", headers=headers)
    if exc.status_code == 400:
        return problem_response("malformed_body", str(exc.detail), headers=headers)
    raise exc  # no other status is answered this way: a bug, the server's 500


def _methods_at(request: Request) -> set[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "\x00"})
        if match is not Match.NONE and isinstance(route, APIRoute | Route):
            methods |= set(route.methods or ())
    return methods


def _outage(exc: BaseException | None) -> bool:
    # The outage may hide behind a later error: when the server closes a connection in the
    # middle of a transaction, the transaction's exit raises InterfaceError ("the underlying
    # connection is closed") with the real cause as its context.
    for _ in range(10):
        if exc is None:
            return False
        if isinstance(exc, UNAVAILABLE) or "connection is closed" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


async def _protocol_lost(request: Request, exc: Exception) -> Response:
    # The driver's protocol lost track of a connection the server is terminating (a restart):
    # the next statement on it fails with InternalClientError ("cannot switch to state 12;
    # another operation (2) is in progress"), with or without the loss as its context. The
    # statement was never sent, so a retry is safe. Our own misuse of a connection (two
    # statements on it at once) is refused earlier by the driver with InterfaceError, and
    # that stays a 500.
    return await _unavailable(request, exc)


async def _interface_error(request: Request, exc: Exception) -> Response:
    if _outage(exc):
        return await _unavailable(request, exc)
    raise exc  # anything else is a bug: the server's 500, with the traceback in the log


def install_error_handlers(app: FastAPI) -> None:
    """Answer the platform's errors on ``app`` with problem documents."""
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for text_error in UNSTORABLE_TEXT:
        app.add_exception_handler(text_error, _unstorable)
    for error in UNAVAILABLE:
        app.add_exception_handler(error, _unavailable)
    app.add_exception_handler(asyncpg.exceptions.InterfaceError, _interface_error)
    app.add_exception_handler(asyncpg.exceptions.InternalClientError, _protocol_lost)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(KeyDestroyedError, _forgotten)
    app.add_exception_handler(InvalidEventError, _invalid)
    app.add_exception_handler(ConcurrencyError, _conflict)
    app.add_exception_handler(IdempotencyConflictError, _conflict)
    app.add_exception_handler(IdempotencyKeyReusedError, _key_reused)


def _is_command_route(route: APIRoute) -> bool:
    """A route that runs a command through the pipeline: it takes the command context (the
    Idempotency-Key) itself and answers the events appended."""
    model = route.response_model
    answers_events = isinstance(model, type) and issubclass(model, CommandAccepted)
    return answers_events and any(d.call is command_context for d in route.dependant.dependencies)


REUSED_KEY_DOC = (
    "or the Idempotency-Key was already used for a different request (another body, path or "
    f"account): `{KEY_REUSED}` at `header.Idempotency-Key`, nothing stored"
)


def document_key_reuse(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Say on the 422 of every command route of ``routers`` (included in ``app`` as they are)
    that a reused key with a different request is refused; the routes' own answers name the
    rest."""
    operations = {
        (route.path, method.lower())
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and _is_command_route(route)
        for method in route.methods or ()
    }
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = generate()
        for path, method in operations:
            responses = spec["paths"][path][method].setdefault("responses", {})
            refused = responses.setdefault("422", {})
            said = refused.get("description") or "invalid input; the answer names the field"
            refused["description"] = f"{said}; {REUSED_KEY_DOC}"
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


class Wired(Protocol):
    """What a service's composition root returns: something to catch up and to close, and
    its replica of the revoked tokens."""

    @property
    def revocations(self) -> Revocations:
        """Which accounts' earlier tokens the guard refuses (from the service's own tables)."""

    @property
    def catch_up(self) -> Callable[[], Awaitable[int]]:
        """Brings the service's read models up to date."""

    @property
    def close(self) -> Callable[[], Awaitable[None]]:
        """Releases everything."""


W = TypeVar("W", bound=Wired)
ErrorAnswer = Callable[[Request, Exception], Awaitable[Response]]
"""An exception handler: the HTTP answer to an error a route raised."""


def _operation_id(route: APIRoute) -> str:
    return route.name  # clean operation ids: the route function's name


def install_routes(
    app: FastAPI,
    name: str,
    settings: Settings,
    clock: Callable[[], datetime],
    routers: Sequence[APIRouter],
    public_routers: Sequence[APIRouter] = (),
) -> None:
    """Include a service's routers behind its access policy (every route needs a token; see
    :mod:`access.guard`), the ``public_routers`` without it, and the shared error answers.

    The guard reads revocations from the :class:`Wired` service the lifespan stores on
    ``app.state.<name>``."""
    install_error_handlers(app)

    def revocations() -> Revocations:
        wired: Wired = getattr(app.state, name)
        return wired.revocations

    install_tokens(app.state, TokenService(settings.auth_secret), clock, revocations)
    app.state.settings = settings
    policy = Depends(service_policy(name))
    for router in routers:
        app.include_router(router, dependencies=[policy])
    for router in public_routers:
        app.include_router(router)
    document_key_reuse(app, routers)
    guarded = {id(route) for router in routers for route in router.routes}
    document_answers(
        app,
        [
            r
            for router in (*routers, *public_routers)
            for r in router.routes
            if isinstance(r, APIRoute)
        ],
        lambda route: id(route) in guarded,
    )
    app.include_router(problems_router())
    instrument(app, name)  # /ready, /metrics, correlation ids, JSON logs: no token needed
    install_docs(app, settings.api_docs_assets)  # /docs from this service, not from a CDN
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)


Background = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
"""A task a service runs beside its routes until the event is set (a scheduler's loop)."""


def service_app(
    name: str,
    *,
    title: str,
    summary: str,
    settings: Settings,
    clock: Callable[[], datetime],
    routers: Sequence[APIRouter],
    open_service: Callable[[], Awaitable[W]],
    public_routers: Sequence[APIRouter] = (),
    background: Callable[[W], Background | None] = lambda _: None,
    error_answers: Mapping[type[Exception], ErrorAnswer] | None = None,
    document: Callable[[dict[str, Any]], None] | None = None,
) -> FastAPI:
    """A service's FastAPI app: opened in the lifespan (nothing at import), stored on
    ``app.state.<name>``, every route behind the access policy, the shared error answers
    (and the service's own ``error_answers``), a ``/health`` route, and the ``background``
    task the opened service asks for, stopped before the service closes. ``document``
    completes the OpenAPI document with what only the settings know (a pattern, an enum)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        wired = await open_service()
        setattr(app.state, name, wired)
        stop = asyncio.Event()
        task: asyncio.Task[None] | None = None
        try:
            await wired.catch_up()
            if (run := background(wired)) is not None:
                task = asyncio.create_task(run(stop))
            yield
        finally:
            stop.set()
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await wired.close()

    app = FastAPI(
        title=title,
        version="1",
        summary=summary,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        docs_url=None,  # install_routes serves /docs itself (servicekit.apidocs)
        redoc_url=None,
    )
    install_routes(app, name, settings, clock, routers, public_routers)
    for error, answer in (error_answers or {}).items():
        app.add_exception_handler(error, answer)
    if document is not None:
        complete_document(app, document)

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    return app


class AppFactory(Protocol):
    """``create_app(settings, clock)``: what ``uvicorn --factory <service>.main:create_app``
    calls (with nothing: the settings come from ``SANLIAN_*``) and tests call with theirs."""

    def __call__(
        self, settings: Settings | None = None, clock: Callable[[], datetime] = utc_now
    ) -> FastAPI:
        """Build the app; the service is opened in the app's lifespan, not at import."""


def service_factory(
    name: str,
    *,
    title: str,
    summary: str,
    routers: Sequence[APIRouter],
    build: Callable[[Settings, Callable[[], datetime]], Awaitable[Wired]],
    public_routers: Sequence[APIRouter] = (),
    document: Callable[[dict[str, Any], Settings], None] | None = None,
) -> AppFactory:
    """The app factory of a service whose composition root is ``build(settings, clock)``."""

    def create_app(
        settings: Settings | None = None, clock: Callable[[], datetime] = utc_now
    ) -> FastAPI:
        """Build the app; the service is opened in the app's lifespan, not at import."""
        chosen = settings or Settings()
        return service_app(
            name,
            title=title,
            summary=summary,
            settings=chosen,
            clock=clock,
            routers=routers,
            public_routers=public_routers,
            open_service=lambda: build(chosen, clock),
            document=(lambda spec: document(spec, chosen)) if document else None,
        )

    return create_app
