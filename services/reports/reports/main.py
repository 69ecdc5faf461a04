"""The reports service's FastAPI app: ``uvicorn --factory reports.main:create_app``."""

from __future__ import annotations

from typing import Any

from eventspine.config import Settings
from reports import bootstrap
from reports.api import ROUTERS
from reports.views import period_pattern
from servicekit.documents import set_parameter
from servicekit.http import service_factory


def _document(spec: dict[str, Any], settings: Settings) -> None:
    # The periods the configured contact rule counts: a year, halves or quarters.
    set_parameter(spec, "period", "query", pattern=period_pattern(bootstrap.contact_rule(settings)))


create_app = service_factory(
    "reports",
    title="Sanlian reports",
    summary="The compliance view, the suggestion-escalation queue and performance records.",
    routers=ROUTERS,
    build=bootstrap.build,
    document=_document,
)
