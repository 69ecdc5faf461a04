"""The embedded default: every service in one process, on SQLite, with no Kafka.

``uvicorn --factory web.embedded:create_app`` mounts each service's own app under its name
(``/roster``, ``/contacts``, ``/reports``...) and runs their lifespans in order, roster first:
the others read the roster's store file for its events (the in-process bus stands in for
Kafka). Each service keeps its own files under ``SANLIAN_SQLITE_DIR``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from importlib import import_module
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI

from access.guard import OVERSIGHT, install_tokens, service_policy
from access.tokens import TokenService
from audit import api as audit_api
from eventspine.clock import FederationClock
from eventspine.config import Settings
from eventspine.store.base import utc_now
from servicekit.apidocs import install_docs
from servicekit.http import install_error_handlers
from topology.table import SERVICES
from web.frontend.app import create_frontend
from web.frontend.services import Services
from web.frontend.settings import WebSettings


def _service_apps(settings: Settings, clock: Callable[[], datetime]) -> dict[str, FastAPI]:
    """Each service's own app, in the topology's order (roster first)."""
    apps: dict[str, FastAPI] = {}
    for service in SERVICES:
        module, _, factory = service.factory.partition(":")
        try:
            create_service_app = getattr(import_module(module), factory)
        except ModuleNotFoundError as exc:
            if exc.name != service.name:
                raise
            continue  # a partial installation without this service
        apps[service.name] = create_service_app(settings, clock)
    return apps


def create_app(
    settings: Settings | None = None,
    clock: Callable[[], datetime] = utc_now,
    web_settings: WebSettings | None = None,
) -> FastAPI:
    """One app for the whole system on the embedded backend, the staff frontend at ``/``."""
    settings = (settings or Settings()).model_copy(update={"store_backend": "sqlite"})
    apps = _service_apps(settings, clock)
    if "notify" in apps and "roster" in apps:
        # notify fills in the names of what it shows and sends from the roster, in-process.
        apps["notify"].state.roster_app = apps["roster"]
    # The frontend calls the services through this very app, in-process (no network hop).
    # The pages see the same "today" as the services they show.
    federation = FederationClock(clock, ZoneInfo(settings.timezone))
    frontend = create_frontend(
        lambda: Services.in_process(app), web_settings or WebSettings(), federation
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for service_app in [*apps.values(), frontend]:
                await stack.enter_async_context(service_app.router.lifespan_context(service_app))
            yield

    app = FastAPI(
        title="Sanlian (embedded)",
        version="1",
        lifespan=lifespan,
        summary="Every Sanlian service in one process: " + ", ".join(f"/{n}" for n in apps),
        docs_url=None,  # served below from the pinned Swagger UI, not from a CDN
        redoc_url=None,
    )
    install_docs(app, settings.api_docs_assets)
    install_error_handlers(app)  # the auditors' routes below refuse as every service does
    for name, service_app in apps.items():
        app.mount(f"/{name}", service_app)
    # The auditor's read-only endpoints, over this installation's stores: for auditors,
    # staff and system clients with the audit scope, never for members. Revoked tokens are
    # the roster's own (same process).
    roster = apps["roster"].state
    install_tokens(
        app.state, TokenService(settings.auth_secret), clock, lambda: roster.roster.revocations
    )
    audit_policy = [Depends(service_policy("audit")), OVERSIGHT]
    app.include_router(audit_api.ROUTER, dependencies=audit_policy)
    app.dependency_overrides[audit_api.get_settings] = lambda: settings

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness of the one process."""
        return {"status": "ok"}

    app.mount("/", frontend)  # last: everything the services do not answer is a page

    return app
