"""API schemas of sign-in and accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from access.accounts import USERNAME
from access.principal import SCOPES, Role


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


class AccountCreate(BaseModel):
    """A new account. Members name their member id; system clients name their read scopes
    and get tokens from ``POST /accounts/{id}/tokens`` instead of a password."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(pattern=USERNAME, examples=["zhang.dongfeng"])
    password: str | None = Field(None, description="10 to 200 characters; not for system")
    role: Role
    member_id: UUID | None = None
    scopes: list[str] = Field(default_factory=list, description=f"system only: {SCOPES}")

    @model_validator(mode="after")
    def _role_fields(self) -> Self:
        if self.role == "member" and self.member_id is None:
            raise ValueError("member_id: a member account must name its member")
        if self.role != "member" and self.member_id is not None:
            raise ValueError("member_id: only member accounts name a member")
        if self.role == "system":
            if self.password is not None:
                raise ValueError("password: system clients sign in with issued tokens only")
            if not self.scopes:
                raise ValueError("scopes: a system client needs at least one read scope")
        elif self.password is None:
            raise ValueError("password: required")
        elif self.scopes:
            raise ValueError("scopes: only system clients have scopes")
        unknown = sorted(set(self.scopes) - set(SCOPES))
        if unknown:
            raise ValueError(f"scopes: unknown {unknown}; known are {list(SCOPES)}")
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

    password: str = Field(description="10 to 200 characters")
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
