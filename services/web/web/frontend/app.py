"""The staff frontend: a backend-for-frontend that renders pages from the services' APIs.

It keeps no data of its own: each page calls the services with the signed-in user's token
(kept in an encrypted session cookie) and renders server-side, with htmx for small updates.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from eventspine.clock import FederationClock
from eventspine.config import Settings
from web.frontend import i18n
from web.frontend.deps import FormExpired, NotAllowed, SignInRequired
from web.frontend.errors import describe
from web.frontend.i18n import N_
from web.frontend.rendering import environment, render
from web.frontend.routes import ROUTERS
from web.frontend.services import ServiceError, Services
from web.frontend.session import SessionMiddleware
from web.frontend.settings import WebSettings

STATIC = Path(__file__).parent / "static"
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
"""Where ``make install`` puts the npm packages (services/web/node_modules)."""
VENDOR = {"htmx.min.js": NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js"}
log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    # Every script, style, image and request comes from this server: an injected <script>
    # or inline handler does not run, and no page can load anything from another host.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
    "Referrer-Policy": "same-origin",
}
"""Headers on every response of the frontend."""

CallNext = Callable[[Request], Awaitable[Response]]


def create_frontend(
    services: Callable[[], Services],
    settings: WebSettings,
    clock: FederationClock | None = None,
) -> FastAPI:
    """The frontend app; ``services`` makes the service clients when the app starts.

    ``clock`` is where every page reads "today" and "now" (what is overdue, how long is left):
    by default the wall clock in the federation's time zone (``SANLIAN_TIMEZONE``); the
    embedded app passes the one its services use."""
    federation = clock or FederationClock(zone=ZoneInfo(Settings().timezone))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = services()
        app.state.languages = i18n.Languages(federation.zone)
        app.state.templates = environment()
        try:
            yield
        finally:
            await app.state.services.aclose()

    app = FastAPI(
        title="Sanlian staff frontend",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.clock = federation
    app.add_middleware(
        SessionMiddleware,
        secret=settings.session_secret,
        max_age=int(settings.session_hours * 3600),
        secure=settings.cookie_secure,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        return response

    @app.get("/vendor/{name}", include_in_schema=False)
    async def vendor(name: str) -> Response:
        """Third-party assets, served from the pinned npm packages."""
        path = VENDOR.get(name)
        if path is None or not path.exists():
            return Response(status_code=404)
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/sw.js", include_in_schema=False)
    async def service_worker() -> Response:
        """The service worker, at the root: a worker controls only the paths under its own."""
        headers = {"Cache-Control": "no-cache"}  # a new version reaches the phones at once
        return FileResponse(STATIC / "sw.js", media_type="text/javascript", headers=headers)

    for router in ROUTERS:
        app.include_router(router)
    _install_handlers(app)
    return app


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: Exception) -> Response:
        # A user who was signed in learns why they are asked again (the token ran out, or
        # the account was disabled); a first visit just gets the form.
        had_user = request.scope.get("session", {}).pop("user", None) is not None
        target = "/login?next=" + quote(request.url.path) + ("&again=1" if had_user else "")
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, exc: Exception) -> Response:
        return render(request, "error.html", {"message": N_("You may not open this page.")}, 403)

    @app.exception_handler(FormExpired)
    async def form_expired(request: Request, exc: Exception) -> Response:
        message = N_("The form expired. Please reload the page and try again.")
        return render(request, "error.html", {"message": message}, 403)

    @app.exception_handler(ServiceError)
    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceError)
        problem = describe(exc)
        context = {"message": problem.message, "detail": problem.detail}
        return render(request, "error.html", context, exc.status if exc.status < 500 else 502)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        message = N_("Page not found.") if exc.status_code == 404 else N_("Something went wrong.")
        return render(request, "error.html", {"message": message}, exc.status_code)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        # The user sees a plain message; the stack trace goes to the log only.
        log.exception("page %s failed", request.url.path)
        return render(request, "error.html", {"message": N_("Something went wrong.")}, 500)
