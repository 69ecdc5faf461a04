"""What the frontend's routes share: the signed-in user, their calls to the services, forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from eventspine.clock import FederationClock
from web.frontend.services import Service, ServiceError, Services
from web.frontend.session import csrf_ok


@dataclass(frozen=True)
class User:
    """Who is signed in, as the roster's ``/auth/token`` answered."""

    username: str
    role: str
    account_id: str | None
    member_id: str | None
    token: str
    name: str | None = None
    tier: str | None = None

    @property
    def shown_name(self) -> str:
        """The person's name as the roster has it (members), else the username."""
        return self.name or self.username

    @property
    def is_staff(self) -> bool:
        """Federation staff (admins) and auditors see the whole city."""
        return self.role in ("admin", "auditor")

    @property
    def is_admin(self) -> bool:
        """Federation staff: the roster, accounts and imports are theirs to change."""
        return self.role == "admin"


class SignInRequired(Exception):
    """No one is signed in (or the token ran out): the page sends them to the sign-in form."""


class NotAllowed(Exception):
    """The user's role may not open this page."""


class FormExpired(Exception):
    """A form arrived without the session's CSRF token."""


def federation_clock(request: Request) -> FederationClock:
    """The app's clock: the one place a page reads "today" and "now" from."""
    clock: FederationClock = request.app.state.clock
    return clock


def current_user(request: Request) -> User | None:
    """The signed-in user, if any."""
    data = request.scope.get("session", {}).get("user")
    if not isinstance(data, dict):
        return None
    return User(
        username=data["username"],
        role=data["role"],
        account_id=data.get("account_id"),
        member_id=data.get("member_id"),
        token=data["token"],
        name=data.get("name"),
        tier=data.get("tier"),
    )


def signed_in(request: Request) -> User:
    """The signed-in user, or a redirect to the sign-in form."""
    user = current_user(request)
    if user is None:
        raise SignInRequired
    return user


def staff(request: Request) -> User:
    """A signed-in admin or auditor."""
    user = signed_in(request)
    if not user.is_staff:
        raise NotAllowed
    return user


def admin(request: Request) -> User:
    """A signed-in admin."""
    user = signed_in(request)
    if not user.is_admin:
        raise NotAllowed
    return user


def member(request: Request) -> User:
    """A signed-in member (someone with links and suggestions of their own)."""
    user = signed_in(request)
    if not user.member_id:
        raise NotAllowed
    return user


def told(request: Request) -> User:
    """A signed-in member, or an admin (staff take the units' monthly digests)."""
    user = signed_in(request)
    if not (user.member_id or user.is_admin):
        raise NotAllowed
    return user


class Api:
    """The services as the signed-in user calls them."""

    def __init__(self, services: Services, user: User | None) -> None:
        self.services = services
        self.user = user

    async def _call(self, service: Service, method: str, path: str, **kwargs: Any) -> Any:
        token = self.user.token if self.user else None
        try:
            response = await self.services.request(service, method, path, token=token, **kwargs)
        except ServiceError as error:
            if error.status == 401 and self.user is not None:
                raise SignInRequired from error
            raise
        return response

    async def get(self, service: Service, path: str, **params: Any) -> Any:
        """GET, answering the JSON body."""
        clean = {k: v for k, v in params.items() if v not in (None, "")}
        return (await self._call(service, "GET", path, params=clean)).json()

    async def download(self, service: Service, path: str, **params: Any) -> Any:
        """GET, answering the response itself (exports)."""
        clean = {k: v for k, v in params.items() if v not in (None, "")}
        return await self._call(service, "GET", path, params=clean)

    async def post(
        self,
        service: Service,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """A command; ``key`` (from the form) makes a double submission harmless."""
        response = await self._call(
            service, "POST", path, json=body, idempotency_key=key or None, **kwargs
        )
        return response.json() if response.content else None

    async def put(
        self, service: Service, path: str, body: dict[str, Any], *, key: str | None = None
    ) -> Any:
        """A command that replaces something (a member's details)."""
        response = await self._call(service, "PUT", path, json=body, idempotency_key=key or None)
        return response.json() if response.content else None


def api(request: Request) -> Api:
    """The services, called with the signed-in user's token."""
    services: Services = request.app.state.services
    return Api(services, current_user(request))


async def form(request: Request) -> dict[str, Any]:
    """The posted form, after checking its CSRF token (field or ``X-CSRF-Token`` header)."""
    data = await request.form()
    offered = data.get("csrf_token") or request.headers.get("X-CSRF-Token")
    if not csrf_ok(request.scope.get("session", {}), offered if isinstance(offered, str) else None):
        raise FormExpired
    values: dict[str, Any] = {}
    for name in data:
        items = data.getlist(name)
        values[name] = items if len(items) > 1 else items[0]
    return values


def as_list(value: Any) -> list[Any]:
    """A form field that may hold one value or many (checkboxes)."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


ApiDep = Annotated[Api, Depends(api)]
UserDep = Annotated[User, Depends(signed_in)]
StaffDep = Annotated[User, Depends(staff)]
AdminDep = Annotated[User, Depends(admin)]
MemberDep = Annotated[User, Depends(member)]
ToldDep = Annotated[User, Depends(told)]
FormDep = Annotated[dict[str, Any], Depends(form)]
