"""The one access check every service runs on every route, and its helpers.

Every route of a service sits behind :func:`service_policy`: a request without a valid token is
401 (a revoked one too: the service's replica of the roster says its account was disabled or
changed its password at or after the token was issued); reads need a role that may read the
service (a ``system`` token needs the service's scope); commands are refused to ``auditor``
and ``system`` (403) before any route code runs.
Routes then narrow further: :func:`require` for staff-only routes, :func:`check_reach` to keep a
``member`` inside their own part of the tree.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Annotated, Any, Protocol
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from access.principal import Principal, Role
from access.revocations import Revocations
from access.tokens import InvalidTokenError, TokenService
from eventspine.errors import NotPermittedError, NotSignedInError

READS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="an access token from POST /auth/token on the roster service",
)


def _unauthorized(reason: str, code: str) -> NotSignedInError:
    return NotSignedInError(
        "Authorization", reason, code=code, headers={"WWW-Authenticate": "Bearer"}
    )


def install_tokens(
    app_state: Any,
    tokens: TokenService,
    clock: Callable[[], datetime],
    revocations: Callable[[], Revocations],
) -> None:
    """Give an app what :func:`authenticate` verifies tokens with: the shared secret, the
    clock, and where the app's own replica says which accounts' tokens were revoked (called
    per request, since the replica is opened in the app's lifespan)."""
    app_state.tokens = tokens
    app_state.token_clock = clock
    app_state.token_revocations = revocations


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The principal of the request's bearer token, or 401 saying what is wrong with it."""
    if credentials is None:
        raise _unauthorized("sign in first: send Authorization: Bearer <token>", "not_signed_in")
    state = request.app.state
    tokens: TokenService = state.tokens
    clock: Callable[[], datetime] = state.token_clock
    try:
        verified = tokens.check(credentials.credentials, clock())
    except InvalidTokenError as exc:
        code = "token_expired" if exc.expired else "token_invalid"
        raise _unauthorized(str(exc), code) from None
    principal = verified.principal
    revocations: Revocations = state.token_revocations()
    revoked_until = await revocations.revoked_until(principal.account_id)
    if revoked_until is not None and verified.issued_at <= revoked_until:
        raise _unauthorized(
            "this token was revoked (the account was disabled or its password changed); "
            "sign in again",
            "token_revoked",
        )
    request.state.principal = principal
    return principal


Caller = Annotated[Principal, Depends(authenticate)]
"""The signed-in principal, for routes that scope what they answer."""


COMMANDERS: dict[str, tuple[Role, ...]] = {
    "roster": ("admin",),
    "contacts": ("admin", "member"),
    "feedback": ("member",),
    "reports": ("admin",),
    "notify": ("admin", "member"),
}
"""Who may send commands to each service at all: federation staff keep the roster and run
the reports; members and staff log contacts; only members of the tree act on suggestions.
Auditors and system clients never command anything."""


def service_policy(service: str) -> Callable[..., Awaitable[None]]:
    """The check every route of ``service`` runs first (installed on the app's routers)."""
    commanders = COMMANDERS.get(service, ())

    async def policy(request: Request, principal: Caller) -> None:
        if request.method in READS:
            if not principal.may_read(service):
                raise NotPermittedError(
                    "Authorization",
                    f"this token may not read the {service} service",
                    code="may_not_read",
                    service=service,
                )
        elif principal.role in ("auditor", "system"):
            raise NotPermittedError(
                "Authorization",
                f"the {principal.role} role reads only; it cannot act",
                code="read_only_role",
                role=principal.role,
            )
        elif principal.role not in commanders:
            raise NotPermittedError(
                "Authorization",
                f"only {' or '.join(commanders)} may act on the {service} service",
                code="may_not_act",
                service=service,
                roles=list(commanders),
            )

    return policy


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting only ``roles`` (403 for anyone else)."""

    async def check(principal: Caller) -> Principal:
        if principal.role not in roles:
            raise NotPermittedError(
                "Authorization",
                f"only {' or '.join(roles)} may do this",
                code="role_required",
                roles=list(roles),
            )
        return principal

    return check


STAFF = Depends(require("admin"))
"""Route dependency: federation staff only (roster changes, policy, accounts)."""
OVERSIGHT = Depends(require("admin", "auditor", "system"))
"""Route dependency: whole-city lists a member has no business reading (exposure, unlinked)."""


class Tree(Protocol):
    """A service's own view of the contact tree (from its roster replica)."""

    async def reach(self, member_id: UUID) -> set[UUID]:
        """The member and everyone below them through current links."""


async def reach_of(principal: Principal, tree: Tree) -> set[UUID] | None:
    """The members a principal may see: ``None`` for everyone (staff, auditors, systems), or a
    member's own part of the tree."""
    if principal.role != "member":
        return None
    assert principal.member_id is not None  # tokens of members always name one
    return await tree.reach(principal.member_id)


async def check_reach(principal: Principal, tree: Tree, members: Iterable[UUID | None]) -> None:
    """403 unless a ``member`` principal reaches at least one of ``members`` (the member a
    request is about, or the two ends of a link)."""
    reach = await reach_of(principal, tree)
    if reach is None:
        return
    if not any(m in reach for m in members if m is not None):
        raise NotPermittedError(
            "Authorization", "this is outside your part of the contact tree", code="outside_tree"
        )


def only_member(principal: Principal) -> UUID:
    """The member a ``member`` principal is; 403 for other roles (commands that only a member
    of the tree can give, such as acting on a suggestion)."""
    if principal.role != "member" or principal.member_id is None:
        raise NotPermittedError(
            "Authorization",
            "a member of the contact tree must act: sign in as a member",
            code="member_must_act",
        )
    return principal.member_id
