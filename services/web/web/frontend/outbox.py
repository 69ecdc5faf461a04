"""What the phone's outbox (``static/offline.js``) is answered when it sends a queued form.

The outbox keeps a form logged without a network on the phone and posts it later exactly as
the page would have (the same fields, its own Idempotency-Key in ``key``), asking for JSON.
The answer says whether the contact is stored (``ok``), refused for a reason the phone shows
beside the entry (``message``), or not decided now (``retry``: a service down, a replica
behind), with the rows of the page to redraw (``rows``, by element id) and, for a form that
leaves its page, where to go next (``next``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from web.frontend.errors import Problem
from web.frontend.rendering import language_of
from web.frontend.services import ServiceError


def wants_json(request: Request) -> bool:
    """Whether the request comes from the outbox (it asks for JSON) rather than a plain form."""
    return "application/json" in request.headers.get("accept", "")


def retryable(error: ServiceError) -> bool:
    """A refusal that says nothing about the request itself: try again later."""
    return (
        error.status >= 500
        or error.status == 429
        or (error.status == 409 and bool(error.retry_after))
    )


def reason(request: Request, problem: Problem) -> str:
    """The refusal in one line, in the user's language."""
    language = language_of(request)
    parts = [problem.message, *problem.fields.values()]
    text = [language.gettext(part) for part in parts if part]
    text.extend(language.gettext(more) for more in problem.detail)
    return " ".join(dict.fromkeys(text))  # each message once, in order


def answer(
    request: Request,
    *,
    problem: Problem | None = None,
    retry: bool = False,
    rows: Mapping[str, str] | None = None,
    next: str | None = None,
) -> JSONResponse:
    """The outbox's answer. A refusal answers 200 too: it is the answer's content (and a
    browser logs every 4xx answer to a script as an error of the page)."""
    body: dict[str, Any] = {"ok": problem is None, "rows": dict(rows or {})}
    if problem is not None:
        body["message"] = reason(request, problem)
        body["retry"] = retry
    if next is not None:
        body["next"] = next
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
