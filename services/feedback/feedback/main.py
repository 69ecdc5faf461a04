"""The feedback service's FastAPI app: ``uvicorn --factory feedback.main:create_app``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI

from eventspine.config import Settings
from eventspine.store.base import utc_now
from feedback import bootstrap, department_api, intake_api, tag_api
from feedback.api import ROUTERS
from feedback.settings import FeedbackSettings
from servicekit.http import service_app


def create_app(
    settings: Settings | None = None,
    clock: Callable[[], datetime] = utc_now,
    feedback_settings: FeedbackSettings | None = None,
) -> FastAPI:
    """Build the app; the service, its replica feed and its scheduler start in the lifespan."""
    settings = settings or Settings()
    departments = sorted((feedback_settings or FeedbackSettings()).departments)

    def document(spec: dict[str, Any]) -> None:
        # The departments this installation has: the only codes an assignment takes.
        schema = spec["components"]["schemas"]["AssignSuggestion"]["properties"]["department"]
        schema["enum"] = departments

    return service_app(
        "feedback",
        title="Sanlian feedback",
        summary="Workers' suggestions that climb the 15510 chain until someone answers.",
        settings=settings,
        clock=clock,
        routers=(*ROUTERS, *intake_api.ROUTERS, department_api.router, tag_api.router),
        public_routers=(*intake_api.PUBLIC_ROUTERS, tag_api.public),
        open_service=lambda: bootstrap.build(settings, clock, feedback_settings),
        background=lambda feedback: (
            feedback.scheduler.run if feedback.settings.scheduler_enabled else None
        ),
        document=document,
    )
