"""The staff frontend on its own, for the full topology: ``uvicorn --factory web.main:create_app``.

It calls each service at the base URL its settings name (``SANLIAN_WEB_ROSTER_URL``,
``SANLIAN_WEB_CONTACTS_URL``, ``SANLIAN_WEB_FEEDBACK_URL``, ``SANLIAN_WEB_REPORTS_URL``). The
auditors' history comes from ``SANLIAN_WEB_AUDIT_URL`` when set; otherwise this process reads
it itself from the stores its ``SANLIAN_*`` settings name (no other process serves it).
"""

from __future__ import annotations

import asyncio
from typing import cast

import httpx
from fastapi import Depends, FastAPI

from access.guard import OVERSIGHT, install_tokens, service_policy
from access.revocations import RosterRevocations
from access.tokens import TokenService
from audit import api as audit_api
from eventspine.config import Settings
from eventspine.store.base import utc_now
from servicekit.http import install_error_handlers
from servicekit.operability import instrument
from topology.table import by_name
from web.frontend.app import create_frontend
from web.frontend.services import Service, Services
from web.frontend.settings import WebSettings


def audit_app(settings: Settings) -> FastAPI:
    """The auditors' read-only endpoints over this installation's stores, behind the same
    access policy as in the embedded app (revoked tokens read from the roster's table); the
    frontend calls it in process."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    install_error_handlers(app)  # refusals as problem documents, as every service answers
    revocations = RosterRevocations(settings)  # the roster's table, as the stores are read
    install_tokens(app.state, TokenService(settings.auth_secret), utc_now, lambda: revocations)
    policy = [Depends(service_policy("audit")), OVERSIGHT]
    app.include_router(audit_api.ROUTER, dependencies=policy)
    app.dependency_overrides[audit_api.get_settings] = lambda: settings
    return app


class Reach:
    """The frontend's readiness (``/ready``): it has no database, it needs the services."""

    def __init__(self, app: FastAPI, names: tuple[str, ...]) -> None:
        self.app = app
        self.names = names

    async def dependencies(self) -> dict[str, str]:
        """Each service the frontend calls over HTTP, and whether its ``/health`` answers."""
        services: Services | None = getattr(self.app.state, "services", None)
        if services is None:
            return {"services": "starting"}

        async def one(name: str) -> str:
            client = services.clients.get(cast(Service, name))
            if client is None:
                return "not configured"
            try:
                answer = await client.get("health", timeout=2)
            except httpx.HTTPError as exc:
                return f"unreachable: {type(exc).__name__}"
            return "ok" if answer.status_code == 200 else f"answered {answer.status_code}"

        found = await asyncio.gather(*(one(name) for name in self.names))
        return {str(name): state for name, state in zip(self.names, found, strict=True)}


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The frontend app, calling the services over HTTP."""
    settings = settings or WebSettings()
    audit = None if settings.audit_url else audit_app(Settings())
    app = create_frontend(lambda: Services.over_http(settings, audit), settings)

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    instrument(app, "web")
    app.state.web = Reach(app, by_name("web").calls)
    return app
