"""The reports service's FastAPI app: ``uvicorn --factory reports.main:create_app``."""

from __future__ import annotations

from reports import bootstrap
from reports.api import ROUTERS
from servicekit.http import service_factory

create_app = service_factory(
    "reports",
    title="Sanlian reports",
    summary="The compliance view, the suggestion-escalation queue and performance records.",
    routers=ROUTERS,
    build=bootstrap.build,
)
