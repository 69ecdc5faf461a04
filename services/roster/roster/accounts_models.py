"""API schemas of sign-in and accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from access.accounts import USERNAME
from access.passwords import MAX_LENGTH, MIN_LENGTH
from access.principal import SCOPES, Role

Scope = Literal["roster:read", "contacts:read", "feedback:read", "reports:read", "audit:read"]
"""A system client's read scope (one per service: ``access.principal.SCOPES``)."""


class TokenPublic(BaseModel):
    """An access token (OAuth2 bearer), and who it signs in."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the token expires")
    account_id: UUID
    role: Role
    member_id: UUID | None = None


class PrincipalPublic(BaseModel):
    """The signed-in account as its token states it."""

    account_id: UUID
    role: Role
    member_id: UUID | None
    scopes: list[str]


PASSWORD = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH, description="10 to 200 characters")

_NONE = {"type": "null"}
_ROLE_SHAPES: dict[str, Any] = {
    "oneOf": [
        {
            "properties": {
                "role": {"const": "member"},
                "member_id": {"type": "string"},
                "password": {"type": "string"},
                "scopes": {"maxItems": 0},
            },
            "required": ["role", "member_id", "password"],
        },
        {
            "properties": {
                "role": {"enum": ["admin", "auditor"]},
                "member_id": _NONE,
                "password": {"type": "string"},
                "scopes": {"maxItems": 0},
            },
            "required": ["role", "password"],
        },
        {
            "properties": {
                "role": {"const": "system"},
                "member_id": _NONE,
                "password": _NONE,
                "scopes": {"minItems": 1},
            },
            "required": ["role", "scopes"],
        },
    ]
}
"""Which fields each role takes, as JSON Schema states it (the validator says the same)."""


def _not_for(role: str, field: str, why: str) -> PydanticCustomError:
    return PydanticCustomError("not_for_role", why, {"field": field, "role": role})


class AccountCreate(BaseModel):
    """A new account. Members name their member id; system clients name their read scopes
    and get tokens from ``POST /accounts/{id}/tokens`` instead of a password."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_ROLE_SHAPES)

    username: str = Field(pattern=USERNAME, examples=["zhang.dongfeng"])
    password: str | None = Field(
        None,
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        description="10 to 200 characters, not the username; every role but system",
    )
    role: Role
    member_id: UUID | None = Field(None, description="member accounts only, and required")
    scopes: list[Scope] = Field(
        default_factory=list, description="system only, at least one", max_length=len(SCOPES)
    )

    @model_validator(mode="after")
    def _role_fields(self) -> Self:
        role = self.role
        if role == "member" and self.member_id is None:
            raise PydanticCustomError(
                "required", "a member account must name its member", {"field": "member_id"}
            )
        if role != "member" and self.member_id is not None:
            raise _not_for(role, "member_id", "only member accounts name a member")
        if role == "system":
            if self.password is not None:
                raise _not_for(role, "password", "system clients sign in with issued tokens only")
            if not self.scopes:
                raise PydanticCustomError(
                    "too_few",
                    "a system client needs at least one read scope",
                    {"field": "scopes", "min_length": 1},
                )
        elif self.password is None:
            raise PydanticCustomError("required", "a password is required", {"field": "password"})
        elif self.scopes:
            raise _not_for(role, "scopes", "only system clients have scopes")
        return self


class AccountPublic(BaseModel):
    """An account, without its credentials."""

    account_id: UUID
    username: str
    role: Role
    member_id: UUID | None
    scopes: list[str]
    created_at: datetime
    disabled_at: datetime | None


class AccountsPublic(BaseModel):
    """A page of accounts."""

    data: list[AccountPublic]
    count: int


class PasswordChange(BaseModel):
    """A new password for an account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    password: str = PASSWORD
    current_password: str | None = Field(
        None,
        max_length=200,
        description="the account's present password: required to change your own (so a "
        "session left open is not enough to take the account over); not needed by staff "
        "setting another account's password",
    )


class SystemTokenRequest(BaseModel):
    """How long a system client's token stays valid."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: int = Field(90, ge=1, le=366)


class SystemTokenPublic(BaseModel):
    """A system client's token, shown once."""

    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    scopes: list[str]
