"""The staff frontend on its own, for the full topology: ``uvicorn --factory web.main:create_app``.

It calls each service at the base URL its settings name (``SANLIAN_WEB_ROSTER_URL``,
``SANLIAN_WEB_CONTACTS_URL``, ``SANLIAN_WEB_FEEDBACK_URL``, ``SANLIAN_WEB_REPORTS_URL``, and
``SANLIAN_WEB_AUDIT_URL`` for the auditors' history).
"""

from __future__ import annotations

from fastapi import FastAPI

from web.frontend.app import create_frontend
from web.frontend.services import Services
from web.frontend.settings import WebSettings


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The frontend app, calling the services over HTTP."""
    settings = settings or WebSettings()
    app = create_frontend(lambda: Services.over_http(settings), settings)

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    return app
