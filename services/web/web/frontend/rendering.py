"""Rendering pages: one Jinja2 environment, translated through the request's language."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from web.frontend import actors, i18n, labels, owing, urgency
from web.frontend.deps import current_user, federation_clock
from web.frontend.session import csrf_token

TEMPLATES = Path(__file__).parent / "templates"

STATUS_CLASSES = {"met": "ok", "behind": "warn", "none": "bad"}


def environment() -> Environment:
    """The templates' environment (built by the app's factory, not at import)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.current_gettext, i18n.current_ngettext, newstyle=True
    )
    env.globals["status_class"] = STATUS_CLASSES
    env.globals["actor_member"] = actors.actor_member
    env.globals["owed_reason"] = owing.owed_reason
    env.globals["urgency"] = urgency
    env.globals["contact_rule"] = owing.rule
    env.globals.update(labels.ALL)
    return env


def language_of(request: Request) -> i18n.Language:
    """The language the user chose (cookie), Chinese by default."""
    languages: i18n.Languages = request.app.state.languages
    return languages.pick(request.cookies.get(i18n.COOKIE))


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render a page (or an htmx fragment) in the user's language.

    A form shown again with its refusals answers 200: the refusal is the page's content, and
    browsers log any 4xx document as a console error (htmx also swaps only 2xx answers)."""
    return HTMLResponse(render_text(request, template, context), status_code=status)


def render_text(request: Request, template: str, context: dict[str, Any] | None = None) -> str:
    """The rendered template as text (a paper's HTML, before it becomes a PDF)."""
    language = language_of(request)
    i18n.CURRENT.set(language)
    env: Environment = request.app.state.templates
    session = request.scope.get("session", {})
    clock = federation_clock(request)
    now = clock.now()
    values: dict[str, Any] = {
        "request": request,
        "lang": language,
        "languages": i18n.LANGUAGES,
        "user": current_user(request),
        "csrf": csrf_token(session),
        "new_key": lambda: str(uuid.uuid4()),
        # One reading of the clock per page: every due date on it is seen from the same moment.
        "clock_now": now,
        "clock_today": clock.date_at(now),
        "values": {},
        "errors": {},
        "message": None,
        "notice": None,
    }
    values.update(context or {})
    return env.get_template(template).render(values)
