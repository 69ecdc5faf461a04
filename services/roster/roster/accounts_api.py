"""Sign-in and account routes, served by the roster service (it knows who is who).

``POST /auth/token`` is the only route without a token. Disabling an account or changing its
password is also recorded as an event (a command of the roster's pipeline), before the table
changes, so every service refuses the tokens issued until then (see :mod:`access.revocations`).
Failed sign-ins are counted per username; past ``SANLIAN_LOGIN_MAX_FAILURES`` within
``SANLIAN_LOGIN_WINDOW_SECONDS`` the username is refused with 429 and ``Retry-After`` until the
oldest failure leaves the window, whether or not the password is right.
"""

# Annotations are evaluated at definition: the routes use a dependency alias made in routers().

import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Request, status

from access.accounts import USERNAME, Account, AccountStore, UsernameTakenError
from access.guard import STAFF, Caller
from access.passwords import check_password, hash_password, password_problem
from access.tokens import TokenService
from eventspine.config import Settings
from eventspine.errors import (
    DomainError,
    NotFoundError,
    NotPermittedError,
    NotSignedInError,
    StateConflictError,
    TooManyAttemptsError,
)
from eventspine.store.base import CommandContext
from roster import commands as cmd
from roster.accounts_models import (
    AccountCreate,
    AccountPublic,
    AccountsPublic,
    PasswordChange,
    PrincipalPublic,
    SystemTokenPublic,
    SystemTokenRequest,
    TokenPublic,
)
from servicekit.commands import CommandPipeline
from servicekit.http import command_context


@dataclass
class Access:
    """What the routes need, wired by the hosting service's composition root."""

    accounts: AccountStore
    tokens: TokenService
    settings: Settings
    clock: Callable[[], datetime]
    member_tier: Callable[[UUID], Awaitable[str | None]]
    """The tier of an active member, or ``None`` if there is no such active member."""
    commands: CommandPipeline
    """Records the account changes that revoke tokens, and brings the revoked tokens up to
    date."""


def _public(account: Account) -> AccountPublic:
    return AccountPublic(
        account_id=account.account_id,
        username=account.username,
        role=account.role,
        member_id=account.member_id,
        scopes=sorted(account.scopes),
        created_at=account.created_at,
        disabled_at=account.disabled_at,
    )


def _sign_in_failed() -> NotSignedInError:
    return NotSignedInError(
        "password",
        "wrong username or password",
        code="sign_in_failed",
        headers={"WWW-Authenticate": "Bearer"},
    )


def refuse_password(password: str, username: str) -> None:
    """Refuse a new password the rules do not take (its lengths are in the schema too)."""
    if why := password_problem(password, username):
        code = "password_is_username" if password.casefold() == username.casefold() else None
        raise DomainError("password", why, code=code or "invalid_password", min_length=10)


def _account_context(ctx: Annotated[CommandContext, Depends(command_context)]) -> CommandContext:
    # The acting account and correlation id as for every command, without the idempotency
    # key: these commands are idempotent by themselves (disabling twice changes nothing more,
    # a password set twice is the same password) and part of each is a table, not the store.
    return replace(ctx, command_id=None)


async def _check_current(access: Access, username: str, current: str | None) -> None:
    """Refuse a change of your own password without the present one. Wrong guesses count
    as failed sign-ins, so a stolen session cannot try passwords faster than the sign-in
    form allows."""
    if not current:
        raise DomainError(
            "current_password",
            "is required to change your own password",
            code="current_password_required",
        )
    s, now = access.settings, access.clock()
    failures = await access.accounts.failures_since(
        username, now - timedelta(seconds=s.login_window_seconds)
    )
    if len(failures) >= s.login_max_failures:
        raise TooManyAttemptsError(
            "current_password",
            "too many wrong passwords; wait and try again",
            headers={"Retry-After": str(s.login_window_seconds)},
            retry_after=s.login_window_seconds,
        )
    found = await access.accounts.credentials(username)
    if found is None or not check_password(found[1], current):
        await access.accounts.record_failure(username, now)
        raise StateConflictError(
            "current_password", "is not this account's password", code="wrong_password"
        )


def routers(
    get_access: Callable[[Request], Awaitable[Access]],
) -> tuple[APIRouter, APIRouter]:
    """The public sign-in router and the protected accounts router."""
    AccessDep = Annotated[Access, Depends(get_access)]
    Context = Annotated[CommandContext, Depends(_account_context)]
    auth = APIRouter(prefix="/auth", tags=["sign-in"])
    accounts = APIRouter(prefix="/accounts", tags=["accounts"])
    refused: dict[int | str, dict[str, Any]] = {
        401: {"description": "wrong username or password"},
        429: {"description": "too many failed sign-ins; retry after the Retry-After seconds"},
    }

    @auth.post("/token", responses=refused)
    async def sign_in(
        access: AccessDep,
        username: Annotated[str, Form(min_length=1, max_length=64)],
        password: Annotated[str, Form(min_length=1, max_length=200)],
    ) -> TokenPublic:
        """Sign in with a username and password (OAuth2 password flow); the answer's
        ``access_token`` goes in ``Authorization: Bearer`` on every other request."""
        if not re.fullmatch(USERNAME, username):
            raise _sign_in_failed()  # no account has such a name: nothing to look up or count
        s, now = access.settings, access.clock()
        window = timedelta(seconds=s.login_window_seconds)
        failures = await access.accounts.failures_since(username, now - window)
        if len(failures) >= s.login_max_failures:
            wait = failures[-s.login_max_failures] + window - now
            seconds = max(1, math.ceil(wait.total_seconds()))
            raise TooManyAttemptsError(
                "username",
                "too many failed sign-ins for this username; wait and try again",
                headers={"Retry-After": str(seconds)},
                retry_after=seconds,
            )
        found = await access.accounts.credentials(username)
        account, stored = found if found else (None, None)
        matches = check_password(stored, password)  # the same work for unknown usernames
        if account is None or not matches or account.disabled_at or account.role == "system":
            await access.accounts.record_failure(username, now)
            raise _sign_in_failed()
        await access.accounts.clear_failures(username)
        lifetime = timedelta(minutes=s.token_minutes)
        return TokenPublic(
            access_token=access.tokens.issue(account.principal, now, lifetime),
            expires_in=int(lifetime.total_seconds()),
            account_id=account.account_id,
            role=account.role,
            member_id=account.member_id,
        )

    @auth.get("/me", responses={401: {"description": "no valid token"}})
    async def who_am_i(principal: Caller) -> PrincipalPublic:
        """The signed-in account as its token states it."""
        return PrincipalPublic(
            account_id=principal.account_id,
            role=principal.role,
            member_id=principal.member_id,
            scopes=sorted(principal.scopes),
        )

    @accounts.post(
        "", status_code=status.HTTP_201_CREATED, dependencies=[STAFF], responses={409: {}}
    )
    async def create_account(
        body: AccountCreate, access: AccessDep, principal: Caller
    ) -> AccountPublic:
        """Open an account (federation staff only)."""
        if body.password is not None:
            refuse_password(body.password, body.username)
        if body.member_id is not None:
            tier = await access.member_tier(body.member_id)
            if tier is None:
                raise NotFoundError(
                    "member_id", "no active member has this id", code="member_not_found"
                )
            if tier == "worker":
                raise StateConflictError(
                    "member_id",
                    "workers do not sign in; their upper contact acts",
                    code="worker_no_account",
                )
        try:
            account = await access.accounts.create(
                username=body.username,
                password_hash=hash_password(body.password) if body.password else None,
                role=body.role,
                member_id=body.member_id,
                scopes=body.scopes,
                now=access.clock(),
                created_by=principal.actor,
            )
        except UsernameTakenError:
            raise StateConflictError(
                "username", "is already taken", code="username_taken", username=body.username
            ) from None
        return _public(account)

    @accounts.get("", dependencies=[STAFF])
    async def list_accounts(
        access: AccessDep,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> AccountsPublic:
        """Accounts by username (federation staff only)."""
        found, count = await access.accounts.page(limit, offset)
        return AccountsPublic(data=[_public(a) for a in found], count=count)

    async def existing(access: Access, account_id: UUID) -> Account:
        account = await access.accounts.get(account_id)
        if account is None:
            raise NotFoundError("account_id", "no such account", code="account_not_found")
        return account

    async def own_or_staff(account_id: UUID, principal: Caller) -> None:
        if principal.role != "admin" and principal.account_id != account_id:
            raise NotPermittedError(
                "account_id", "you may change only your own password", code="own_password_only"
            )

    @accounts.post(
        "/{account_id}/password",
        status_code=204,
        dependencies=[Depends(own_or_staff)],
        responses={404: {}, 422: {}},
    )
    async def change_password(
        account_id: UUID, body: PasswordChange, access: AccessDep, ctx: Context, principal: Caller
    ) -> None:
        """Set a new password: your own (with your present one), or anyone's as federation
        staff. Tokens issued until now stop working on every service (within its replica's
        lag); sign in again."""
        account = await existing(access, account_id)
        if account.role == "system":
            raise StateConflictError(
                "password",
                "system clients sign in with issued tokens only",
                code="not_for_system",
            )
        if principal.account_id == account_id:
            await _check_current(access, account.username, body.current_password)
        refuse_password(body.password, account.username)
        password_hash = hash_password(body.password)
        # The event first: should the table update fail, the old tokens are refused anyway and
        # a retry sets the password; the other order could leave old tokens working.
        changed = cmd.RecordPasswordChanged(account_id=account_id, changed_at=access.clock())
        await access.commands.run(changed, ctx)
        await access.accounts.set_password(account_id, password_hash)

    @accounts.post("/{account_id}/disabling", dependencies=[STAFF], responses={404: {}, 409: {}})
    async def disable_account(
        account_id: UUID, access: AccessDep, ctx: Context, principal: Caller
    ) -> AccountPublic:
        """Stop an account from signing in (federation staff only); the last admin stays, and
        no admin disables their own account (another admin does). Its tokens stop working on
        every service (within its replica's lag)."""
        account = await existing(access, account_id)
        if principal.account_id == account_id:
            # It would end the admin's own session with a click meant for someone else's row,
            # and could leave the federation with no admin who knows it happened.
            raise StateConflictError(
                "account_id",
                "is your own account: another admin must disable it",
                code="own_account",
            )
        if account.disabled_at is not None:
            return _public(account)  # already disabled: nothing more to record
        if account.role == "admin" and await access.accounts.count_admins() <= 1:
            raise StateConflictError(
                "account_id", "the last admin cannot be disabled", code="last_admin"
            )
        now = access.clock()
        # The event first, for the same reason as for a password change.
        await access.commands.run(
            cmd.RecordAccountDisabled(account_id=account_id, disabled_at=now), ctx
        )
        await access.accounts.disable(account_id, now)
        return _public(await existing(access, account_id))

    @accounts.post(
        "/{account_id}/tokens",
        status_code=status.HTTP_201_CREATED,
        dependencies=[STAFF],
        responses={404: {}, 409: {}},
    )
    async def issue_system_token(
        account_id: UUID, body: SystemTokenRequest, access: AccessDep
    ) -> SystemTokenPublic:
        """A read-only token for another city system's account (federation staff only;
        shown once)."""
        account = await existing(access, account_id)
        if account.role != "system":
            raise StateConflictError(
                "account_id", "only system clients get issued tokens", code="not_system_client"
            )
        if account.disabled_at is not None:
            raise StateConflictError(
                "account_id", "the account is disabled", code="account_disabled"
            )
        now = access.clock()
        lifetime = timedelta(days=body.days)
        return SystemTokenPublic(
            access_token=access.tokens.issue(account.principal, now, lifetime),
            expires_at=now + lifetime,
            scopes=sorted(account.scopes),
        )

    return auth, accounts
