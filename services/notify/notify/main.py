"""The notify service's FastAPI app: ``uvicorn --factory notify.main:create_app``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp

from eventspine.clock import utc_now
from eventspine.config import Settings
from notify import bootstrap
from notify.api import PUBLIC_ROUTERS, ROUTERS
from notify.settings import NotifySettings
from servicekit.http import service_app


def create_app(
    settings: Settings | None = None,
    clock: Callable[[], datetime] = utc_now,
    notify_settings: NotifySettings | None = None,
    roster: ASGIApp | None = None,
) -> FastAPI:
    """Build the app; the service, its feeds and its scheduler start in the lifespan.
    ``roster`` (or, set later, ``app.state.roster_app``: the embedded default) is the roster
    app in this process, asked for names without a network hop."""
    settings = settings or Settings()

    def roster_transport() -> httpx.AsyncBaseTransport | None:
        found = roster or getattr(app.state, "roster_app", None)
        return httpx.ASGITransport(app=found) if found is not None else None

    app = service_app(
        "notify",
        title="Sanlian notify",
        summary="Reminders: who must be told what, when, on which channel.",
        settings=settings,
        clock=clock,
        routers=ROUTERS,
        public_routers=PUBLIC_ROUTERS,
        open_service=lambda: bootstrap.build(settings, clock, notify_settings, roster_transport),
        background=lambda notify: (
            notify.scheduler.run if notify.settings.scheduler_enabled else None
        ),
    )
    return app
