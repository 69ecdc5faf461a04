"""Access tokens for tests, signed with the settings' secret like sign-in's.

Tokens are issued long before and valid long after the tests' clocks (some move time by
days), so they never expire in the middle of a test; expiry itself is tested on its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from access.principal import Principal, Role
from access.tokens import TokenService
from eventspine.config import Settings

ISSUED = datetime(2020, 1, 1, tzinfo=UTC)
LIFETIME = timedelta(days=365 * 20)


def token(
    role: Role = "admin",
    member_id: UUID | str | None = None,
    scopes: Iterable[str] = (),
    *,
    settings: Settings | None = None,
    issued: datetime = ISSUED,
    lifetime: timedelta = LIFETIME,
    account_id: UUID | None = None,
) -> str:
    """A signed token for a principal of ``role``."""
    principal = Principal(
        account_id or uuid.uuid4(),
        role,
        UUID(str(member_id)) if member_id else None,
        frozenset(scopes),
    )
    secret = (settings or Settings()).auth_secret
    return TokenService(secret).issue(principal, issued, lifetime)


def bearer(
    role: Role = "admin", member_id: UUID | str | None = None, scopes: Iterable[str] = ()
) -> dict[str, str]:
    """``Authorization`` headers for a principal of ``role``."""
    return {"Authorization": f"Bearer {token(role, member_id, scopes)}"}


def as_member(member_id: UUID | str) -> dict[str, str]:
    """Headers of a request a member makes."""
    return bearer("member", member_id)


STAFF = bearer("admin")
"""Headers of federation staff."""


class NothingRevoked:
    """Revocations for an app with no replica of the roster (tests of other concerns)."""

    async def revoked_until(self, account_id: UUID) -> datetime | None:
        """No account's tokens were ever revoked."""
        return None
