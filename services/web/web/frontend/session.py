"""The session: an encrypted, signed cookie (Fernet), and the CSRF token it carries.

The session holds the service token the user signed in with; the browser cannot read it
(httpOnly) or change it (Fernet authenticates), and it expires with the cookie.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "sanlian_session"


class SessionMiddleware:
    """Puts ``scope["session"]`` (a dict) on every request and writes it back when changed."""

    def __init__(self, app: ASGIApp, secret: str, max_age: int, secure: bool) -> None:
        key = base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())
        self.app = app
        self.fernet = Fernet(key)
        self.max_age = max_age
        self.secure = secure

    def _load(self, raw: str | None) -> dict[str, Any]:
        if not raw:
            return {}
        try:
            data = json.loads(self.fernet.decrypt(raw.encode(), ttl=self.max_age))
        except (InvalidToken, ValueError):
            return {}  # expired, tampered with, or from another key: start afresh
        return data if isinstance(data, dict) else {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loaded = self._load(HTTPConnection(scope).cookies.get(COOKIE))
        scope["session"] = dict(loaded)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and scope["session"] != loaded:
                headers = MutableHeaders(scope=message)
                flags = f"Path=/; HttpOnly; SameSite=Lax{'; Secure' if self.secure else ''}"
                if scope["session"]:
                    value = self.fernet.encrypt(json.dumps(scope["session"]).encode()).decode()
                    headers.append(
                        "Set-Cookie", f"{COOKIE}={value}; Max-Age={self.max_age}; {flags}"
                    )
                else:
                    headers.append("Set-Cookie", f"{COOKIE}=; Max-Age=0; {flags}")
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return token


def csrf_ok(session: dict[str, Any], offered: str | None) -> bool:
    """True when ``offered`` is the session's CSRF token."""
    token = session.get("csrf")
    return isinstance(token, str) and offered is not None and secrets.compare_digest(token, offered)
