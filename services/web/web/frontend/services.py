"""How the frontend reaches the services: their HTTP APIs, with the user's token.

In the embedded app the calls go in-process (``httpx.ASGITransport`` on the one app), in the
full topology to each service's base URL. Refusals become :class:`ServiceError`, which the
pages show beside the field that caused them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from starlette.types import ASGIApp

from web.frontend.settings import WebSettings

Service = Literal["roster", "contacts", "feedback", "reports", "notify", "audit"]
SERVICES: tuple[Service, ...] = ("roster", "contacts", "feedback", "reports", "notify", "audit")


@dataclass(frozen=True)
class Refused:
    """One thing a service refused: its code (``contracts.refusals``) and the values that
    explain it."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ServiceError(Exception):
    """A service refused a request: the status, its problem document's code and values, the
    fields at fault (by name: the last part of the field's path), and the English detail
    (for logs; the pages speak for the code)."""

    status: int
    message: str | None = None
    code: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Refused | str] = field(default_factory=dict)
    """By field: what a service refused, or (a check of the page's own) the words to say."""
    retry_after: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code or ''} {self.message or ''} {self.fields}"


def error_from(response: httpx.Response) -> ServiceError:
    """Read a service's problem document (RFC 9457, ``application/problem+json``)."""
    error = ServiceError(response.status_code, retry_after=response.headers.get("Retry-After"))
    try:
        body = response.json()
    except ValueError:
        error.message = response.reason_phrase or None
        return error
    if not isinstance(body, dict):
        return error
    error.message = body.get("detail") if isinstance(body.get("detail"), str) else None
    error.code = body.get("code") if isinstance(body.get("code"), str) else None
    params = body.get("params")
    error.params = params if isinstance(params, dict) else {}
    known = {"type", "title", "status", "detail", "code", "field", "params", "errors"}
    error.extra = {k: v for k, v in body.items() if k not in known}
    for item in body.get("errors") or []:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            continue
        path = [p for p in str(item.get("field") or "").split(".") if p and not p.isdigit()]
        name = path[-1] if path else "__all__"
        values = item.get("params")
        error.fields.setdefault(
            name, Refused(item["code"], values if isinstance(values, dict) else {})
        )
    return error


class Services:
    """One HTTP client per service; ``call`` adds the user's token and reads refusals."""

    def __init__(self, clients: Mapping[Service, httpx.AsyncClient]) -> None:
        self.clients = dict(clients)

    @classmethod
    def in_process(cls, app: ASGIApp, timeout: float = 15) -> Services:
        """Clients that call the embedded app's mounted services without a network hop."""
        transport = httpx.ASGITransport(app=app)
        return cls(
            {
                name: httpx.AsyncClient(
                    transport=transport,
                    base_url=f"http://embedded/{'' if name == 'audit' else name}",
                    timeout=timeout,
                )
                for name in SERVICES
            }
        )

    @classmethod
    def over_http(cls, settings: WebSettings, audit: ASGIApp | None = None) -> Services:
        """Clients for the full topology: each service at its base URL; ``audit``, when
        given, serves the auditors' history in process instead of ``audit_url``."""
        urls: dict[Service, str | None] = {
            "roster": settings.roster_url,
            "contacts": settings.contacts_url,
            "feedback": settings.feedback_url,
            "reports": settings.reports_url,
            "notify": settings.notify_url,
            "audit": settings.audit_url,
        }
        clients: dict[Service, httpx.AsyncClient] = {
            name: httpx.AsyncClient(base_url=url, timeout=settings.timeout_seconds)
            for name, url in urls.items()
            if url
        }
        if audit is not None and "audit" not in clients:
            clients["audit"] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=audit),
                base_url="http://audit/",
                timeout=settings.timeout_seconds,
            )
        return cls(clients)

    async def aclose(self) -> None:
        """Close every client."""
        for client in self.clients.values():
            await client.aclose()

    async def request(
        self,
        service: Service,
        method: str,
        path: str,
        *,
        token: str | None,
        idempotency_key: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One call; raises :class:`ServiceError` on a refusal (status 400 and above)."""
        client = self.clients.get(service)
        if client is None:
            raise ServiceError(503, f"{service} is not configured", code="not_configured")
        headers: dict[str, str] = {"X-Correlation-Id": str(uuid.uuid4())}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = await client.request(method, path.lstrip("/"), headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceError(503, f"{service} does not answer", code="unavailable") from exc
        if response.status_code >= 400:
            raise error_from(response)
        return response
