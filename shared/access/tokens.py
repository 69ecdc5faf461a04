"""Signed, expiring access tokens (JWT, HS256) that every service verifies on its own."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import jwt

from access.principal import ROLES, Principal

ISSUER = "sanlian"
AUDIENCE = "sanlian"
ALGORITHM = "HS256"
DECODED_TOKENS = 4096
"""Signatures checked once per token and process: a client sends its token with every request,
and the check (HMAC, base64, JSON) is the same for the same string under the same secret."""


class InvalidTokenError(Exception):
    """A token that is missing, malformed, tampered with or expired (``expired``). The
    message never contains the token."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        self.expired = expired
        super().__init__(reason)


@dataclass(frozen=True)
class VerifiedToken:
    """A token that passed verification: who it names and when it was issued."""

    principal: Principal
    issued_at: datetime


class TokenService:
    """Issues and verifies access tokens with one shared secret (``SANLIAN_AUTH_SECRET``)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._claims = functools.lru_cache(maxsize=DECODED_TOKENS)(self._decode)

    def issue(self, principal: Principal, now: datetime, lifetime: timedelta) -> str:
        """A token for ``principal`` valid for ``lifetime`` from ``now``."""
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(principal.account_id),
            "role": principal.role,
            # To the microsecond, not the second: a token issued just after a revocation
            # (a sign-in right after a password change) must be told from one issued before.
            "iat": round(now.timestamp(), 6),
            "exp": int((now + lifetime).timestamp()),
            "jti": str(uuid.uuid4()),
        }
        if principal.member_id is not None:
            claims["member_id"] = str(principal.member_id)
        if principal.scopes:
            claims["scope"] = " ".join(sorted(principal.scopes))
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str, now: datetime) -> Principal:
        """The principal a token names, or :class:`InvalidTokenError` saying why not."""
        return self.check(token, now).principal

    def _decode(self, token: str) -> Mapping[str, Any]:
        """The claims of a token whose signature, issuer and audience check (cached: only
        what returns is kept, so a refused token is checked again each time)."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss", "aud"], "verify_exp": False},
            )
        except jwt.InvalidTokenError as exc:
            raise InvalidTokenError(f"the token is not valid ({type(exc).__name__})") from None
        return claims

    def check(self, token: str, now: datetime) -> VerifiedToken:
        """The principal a token names and its issue time, or :class:`InvalidTokenError`."""
        claims = self._claims(token)
        # Expiry against the injected clock, not the wall clock, so tests can move time.
        if int(claims["exp"]) <= int(now.timestamp()):
            raise InvalidTokenError("the token has expired; sign in again", expired=True)
        role = claims.get("role")
        if role not in ROLES:
            raise InvalidTokenError("the token names no known role")
        try:
            account_id = UUID(str(claims["sub"]))
            member = claims.get("member_id")
            member_id = UUID(str(member)) if member else None
        except ValueError:
            raise InvalidTokenError("the token's subject is not an account id") from None
        if role == "member" and member_id is None:
            raise InvalidTokenError("a member's token must name the member")
        scopes = frozenset(str(claims.get("scope", "")).split())
        try:
            issued_at = datetime.fromtimestamp(float(claims["iat"]), UTC)
        except (ValueError, OverflowError, OSError):
            raise InvalidTokenError("the token's issue time is not a time") from None
        return VerifiedToken(Principal(account_id, role, member_id, scopes), issued_at)
