"""The contacts service's FastAPI app: ``uvicorn --factory contacts.main:create_app``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from contacts import bootstrap
from contacts.api import ROUTERS
from eventspine.config import Settings
from eventspine.store.base import utc_now
from servicekit.http import service_app


def create_app(
    settings: Settings | None = None, clock: Callable[[], datetime] = utc_now
) -> FastAPI:
    """Build the app; the service is opened in the app's lifespan, not at import."""
    settings = settings or Settings()
    return service_app(
        "contacts",
        title="Sanlian contacts",
        summary="Contacts logged on roster links, contact cards, and what is due.",
        settings=settings,
        clock=clock,
        routers=ROUTERS,
        open_service=lambda: bootstrap.build(settings, clock),
    )
