"""The notify service's FastAPI app: ``uvicorn --factory notify.main:create_app``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

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
) -> FastAPI:
    """Build the app; the service, its feeds and its scheduler start in the lifespan."""
    settings = settings or Settings()
    return service_app(
        "notify",
        title="Sanlian notify",
        summary="Reminders: who must be told what, when, on which channel.",
        settings=settings,
        clock=clock,
        routers=ROUTERS,
        public_routers=PUBLIC_ROUTERS,
        open_service=lambda: bootstrap.build(settings, clock, notify_settings),
        background=lambda notify: (
            notify.scheduler.run if notify.settings.scheduler_enabled else None
        ),
    )
