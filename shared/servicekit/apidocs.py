"""Every service's ``/docs`` page (Swagger UI), served by the service itself.

FastAPI's own page loads Swagger UI from a CDN, which leaves a blank page on the offline
networks many federations work on. Here the page's script, style and icon come from the npm
package ``swagger-ui-dist`` at the version ``shared/apidocs/package-lock.json`` pins (``make
install`` runs ``npm ci`` there; the images copy it). The page's links are relative, so they
hold whether the service runs on its own (``/docs``) or mounted in the embedded app
(``/roster/docs``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(__file__).resolve().parents[1] / "apidocs" / "node_modules" / "swagger-ui-dist"
"""Where ``make install`` puts Swagger UI (``SANLIAN_API_DOCS_ASSETS`` names another folder)."""


def install_docs(app: FastAPI, assets: str | None = None) -> None:
    """Serve ``/docs`` with Swagger UI from ``assets`` (default :data:`ASSETS`) on ``app``,
    which was created with ``docs_url=None`` and ``redoc_url=None`` (FastAPI's CDN pages)."""
    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError("create the app with docs_url=None and redoc_url=None")
    folder = Path(assets) if assets else ASSETS
    app.mount("/docs-assets", StaticFiles(directory=folder, check_dir=False), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        if not (folder / "swagger-ui-bundle.js").exists():
            return HTMLResponse(
                "<!doctype html><title>API</title><p>Swagger UI is not installed here "
                '(make install). The API description is at <a href="openapi.json">'
                "openapi.json</a>.</p>",
                status_code=503,
            )
        return get_swagger_ui_html(
            openapi_url="openapi.json",
            title=f"{app.title} · API",
            swagger_js_url="docs-assets/swagger-ui-bundle.js",
            swagger_css_url="docs-assets/swagger-ui.css",
            swagger_favicon_url="docs-assets/favicon-32x32.png",
        )
