"""The contacts service's FastAPI app: ``uvicorn --factory contacts.main:create_app``."""

from __future__ import annotations

from contacts import bootstrap
from contacts.api import ROUTERS
from servicekit.http import service_factory

create_app = service_factory(
    "contacts",
    title="Sanlian contacts",
    summary="Contacts logged on roster links, contact cards, and what is due.",
    routers=ROUTERS,
    build=bootstrap.build,
)
