"""The roster's FastAPI app: ``uvicorn --factory roster.main:create_app``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from fastapi.routing import APIRoute

from eventspine.config import Settings
from eventspine.http import install_error_handlers
from eventspine.store.base import utc_now
from roster import bootstrap
from roster.api import ROUTERS


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(
    settings: Settings | None = None, clock: Callable[[], datetime] = utc_now
) -> FastAPI:
    """Build the app; the roster is opened in the lifespan, not at import."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        roster = await bootstrap.build(settings or Settings(), clock)
        app.state.roster = roster
        try:
            await roster.catch_up()
            yield
        finally:
            await roster.close()

    app = FastAPI(
        title="Sanlian roster",
        version="1",
        summary="Units, members and the 1:5:5:10 contact tree of the 15510 contact system.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    return app
