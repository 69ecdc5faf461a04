"""The workers' pages: no account, a phone, a QR code (扫码反映).

``/v/<token>`` is the intake page a representative's or an enterprise union's QR code opens:
a plain HTML form (no script, so it works in WeChat's in-app browser and with JavaScript off)
that posts the suggestion and answers with the receipt, the follow-up code and link.
``/f/<code>`` is the follow-up page: where the suggestion is, the answer or outcome, and the
rating form. A revoked or forged link, or an unknown code, gets a plain Chinese page.

Besides the feedback service's limit per link, each client address may send only so many
suggestions in a window (:class:`AddressLimiter`, per frontend process): a phone that floods
one link or many is stopped before the service is asked.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.frontend.deps import Api, ApiDep, FormDep
from web.frontend.errors import Problem, describe
from web.frontend.i18n import N_
from web.frontend.labels import CATEGORY_LABELS
from web.frontend.rendering import render
from web.frontend.services import ServiceError
from web.frontend.tags import chosen_tags, tag_options

router = APIRouter(tags=["frontend"])
SUBMIT_FIELDS = frozenset({"text", "category", "tags", "name", "phone"})
RATE_FIELDS = frozenset({"rating", "comment"})
CLOSED = {
    "intake_link_revoked": N_(
        "This QR code has been withdrawn. Please ask your union representative for the new one."
    ),
    "intake_link_invalid": N_(
        "This link is not valid. Please scan the QR code again, or ask your union representative."
    ),
}
REFUSALS = {
    "intake_rate_limited": N_(
        "Many suggestions arrived by this QR code just now. Please try again in an hour."
    ),
    "intake_duplicate": N_("The same suggestion was already sent by this QR code."),
}
NO_CODE = N_("No suggestion has this follow-up code. Please check the code and try again.")


class AddressLimiter:
    """At most ``limit`` submissions per client address in ``window`` seconds (in memory)."""

    def __init__(self, limit: int = 5, window: float = 600.0) -> None:
        self.limit = limit
        self.window = window
        self.seen: dict[str, deque[float]] = {}

    def allow(self, address: str, now: float | None = None) -> bool:
        """Count one submission from ``address``; False if it is over the limit."""
        now = time.monotonic() if now is None else now
        times = self.seen.setdefault(address, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        if len(self.seen) > 10_000:  # forget quiet addresses so memory stays bounded
            for key in [k for k, v in self.seen.items() if not v or v[-1] <= now - self.window]:
                del self.seen[key]
        return True


def _limiter(request: Request) -> AddressLimiter:
    limiter = getattr(request.app.state, "voice_limiter", None)
    if limiter is None:
        settings = request.app.state.settings
        limiter = AddressLimiter(settings.intake_per_address, settings.intake_window_seconds)
        request.app.state.voice_limiter = limiter
    return limiter


def _closed(request: Request, error: ServiceError) -> Response | None:
    message = CLOSED.get(error.code or "")
    if message is None:
        return None
    status = 410 if error.code == "intake_link_revoked" else 404
    return render(request, "voice_closed.html", {"message": message}, status)


async def _form(
    request: Request,
    api: Api,
    token: str,
    values: dict[str, Any],
    problem: Problem | None = None,
) -> Response:
    context = {
        "token": token,
        "categories": list(CATEGORY_LABELS.items()),
        "tags": await tag_options(api, request),
        "chosen": chosen_tags(values),
        "values": values,
        "problem": problem,
    }
    return render(request, "voice_form.html", context)


@router.get("/v/{token}")
async def intake_page(request: Request, token: str, api: ApiDep) -> Response:
    """The intake page a QR code opens (a plain form, no script)."""
    try:
        await api.get("feedback", f"/intake/{quote(token, safe='')}")
    except ServiceError as error:
        if (closed := _closed(request, error)) is not None:
            return closed
        raise
    return await _form(request, api, token, {})


@router.post("/v/{token}")
async def submit(request: Request, token: str, api: ApiDep, form: FormDep) -> Response:
    """Send the suggestion; the answer is the receipt with the follow-up code and link."""
    anonymous = form.get("anonymous") == "yes"
    body = {
        "text": (form.get("text") or "").strip(),
        "category": form.get("category") or None,
        "tags": chosen_tags(form),
        "name": None if anonymous else (form.get("name") or "").strip() or None,
        "phone": None if anonymous else (form.get("phone") or "").strip() or None,
        "anonymous": anonymous,
    }
    address = request.client.host if request.client else "unknown"
    if not _limiter(request).allow(address):
        problem = Problem(message=N_("Too many attempts. Please wait a moment and try again."))
        return await _form(request, api, token, form, problem)
    try:
        done = await api.post(
            "feedback", f"/intake/{quote(token, safe='')}/suggestions", body, key=form.get("key")
        )
    except ServiceError as error:
        if (closed := _closed(request, error)) is not None:
            return closed
        problem = describe(error, SUBMIT_FIELDS)
        if error.code in REFUSALS:
            problem = Problem(message=REFUSALS[error.code])
        problem.detail = []  # the service's own words are for staff, not for the worker
        return await _form(request, api, token, form, problem)
    code = done["follow_up_code"]
    return render(request, "voice_receipt.html", {"code": code, "grouped": grouped(code)})


def grouped(code: str) -> str:
    """A code as people read it: four groups of four."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@router.get("/f")
async def find(request: Request) -> Response:
    """Type a follow-up code (the receipt's), or come with it in ``?code=``."""
    code = (request.query_params.get("code") or "").strip()
    if code:
        clean = code.replace("-", "").replace(" ", "").upper()
        return RedirectResponse(f"/f/{quote(clean, safe='')}", status_code=303)
    return render(request, "voice_find.html", {})


async def _follow(
    request: Request, api: Any, code: str, problem: Problem | None = None, values: Any = None
) -> Response:
    try:
        seen = await api.get("feedback", f"/follow-up/{quote(code, safe='')}")
    except ServiceError as error:
        if error.status == 404:
            return render(request, "voice_closed.html", {"message": NO_CODE}, 404)
        raise
    done = request.query_params.get("done")
    notice = N_("Thank you for your rating.") if done == "rated" else None
    context = {
        "f": seen,
        "code": code,
        "grouped": grouped(code),
        "problem": problem,
        "values": values or {},
        "notice": notice,
    }
    return render(request, "voice_follow.html", context)


@router.get("/f/{code}")
async def follow(request: Request, code: str, api: ApiDep) -> Response:
    """Where the suggestion is, its answer or outcome, and the rating form once answered."""
    return await _follow(request, api, code)


@router.post("/f/{code}")
async def rate(request: Request, code: str, api: ApiDep, form: FormDep) -> Response:
    """Rate the answer: satisfied closes it; dissatisfied may reopen it."""
    rating = form.get("rating") or None
    body = {
        "rating": rating,
        "comment": (form.get("comment") or "").strip() or None,
        "reopen": rating == "dissatisfied" and form.get("reopen") == "yes",
    }
    try:
        await api.post(
            "feedback", f"/follow-up/{quote(code, safe='')}/rating", body, key=form.get("key")
        )
    except ServiceError as error:
        if error.status == 404:
            return render(request, "voice_closed.html", {"message": NO_CODE}, 404)
        problem = describe(error, RATE_FIELDS)
        problem.detail = []
        return await _follow(request, api, code, problem, form)
    return RedirectResponse(f"/f/{quote(code, safe='')}?done=rated", status_code=303)
