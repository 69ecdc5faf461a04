"""The roster service's FastAPI app: ``uvicorn --factory roster.main:create_app``."""

from __future__ import annotations

from roster import bootstrap
from roster.api import PUBLIC_ROUTERS, ROUTERS
from servicekit.http import service_factory

create_app = service_factory(
    "roster",
    title="Sanlian roster",
    summary="Units, members and the 1:5:5:10 contact tree of the 15510 contact system.",
    routers=ROUTERS,
    public_routers=PUBLIC_ROUTERS,
    build=bootstrap.build,
)
