"""The reports service's FastAPI app: ``uvicorn --factory reports.main:create_app``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from eventspine.config import Settings
from eventspine.store.base import utc_now
from reports import bootstrap
from reports.api import ROUTERS
from servicekit.http import service_app


def create_app(
    settings: Settings | None = None, clock: Callable[[], datetime] = utc_now
) -> FastAPI:
    """Build the app; the service is opened in the app's lifespan, not at import."""
    settings = settings or Settings()
    return service_app(
        "reports",
        title="Sanlian reports",
        summary="The compliance view, the suggestion-escalation queue and performance records.",
        settings=settings,
        clock=clock,
        routers=ROUTERS,
        open_service=lambda: bootstrap.build(settings, clock),
    )
