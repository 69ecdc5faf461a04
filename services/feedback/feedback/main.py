"""The feedback service's FastAPI app: ``uvicorn --factory feedback.main:create_app``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from eventspine.config import Settings
from eventspine.store.base import utc_now
from feedback import bootstrap
from feedback.api import ROUTERS
from feedback.handlers import ReplicaBehindError
from feedback.settings import FeedbackSettings
from servicekit.http import install_routes


def _operation_id(route: APIRoute) -> str:
    return route.name


async def _replica_behind(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=409,
        content={"detail": str(exc.args[0]).split(": ", 1)[-1], "code": "replica_behind"},
        headers={"Retry-After": "1"},
    )


def create_app(
    settings: Settings | None = None,
    clock: Callable[[], datetime] = utc_now,
    feedback_settings: FeedbackSettings | None = None,
) -> FastAPI:
    """Build the app; the service, its replica feed and its scheduler start in the lifespan."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        feedback = await bootstrap.build(settings, clock, feedback_settings)
        app.state.feedback = feedback
        stop = asyncio.Event()
        task = None
        try:
            await feedback.catch_up()
            if feedback.settings.scheduler_enabled:
                task = asyncio.create_task(feedback.scheduler.run(stop))
            yield
        finally:
            stop.set()
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await feedback.close()

    app = FastAPI(
        title="Sanlian feedback",
        version="1",
        summary="Workers' suggestions that climb the 15510 chain until someone answers.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        docs_url=None,  # install_routes serves /docs itself (servicekit.apidocs)
        redoc_url=None,
    )
    install_routes(app, "feedback", settings, clock, ROUTERS)
    app.add_exception_handler(ReplicaBehindError, _replica_behind)

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    return app
