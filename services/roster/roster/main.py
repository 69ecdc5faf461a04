"""The roster service's FastAPI app: ``uvicorn --factory roster.main:create_app``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from eventspine.config import Settings
from eventspine.store.base import utc_now
from roster import bootstrap
from roster.api import PUBLIC_ROUTERS, ROUTERS
from servicekit.http import service_app


def create_app(
    settings: Settings | None = None, clock: Callable[[], datetime] = utc_now
) -> FastAPI:
    """Build the app; the service is opened in the app's lifespan, not at import."""
    settings = settings or Settings()
    return service_app(
        "roster",
        title="Sanlian roster",
        summary="Units, members and the 1:5:5:10 contact tree of the 15510 contact system.",
        settings=settings,
        clock=clock,
        routers=ROUTERS,
        public_routers=PUBLIC_ROUTERS,
        open_service=lambda: bootstrap.build(settings, clock),
    )
