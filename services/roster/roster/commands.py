"""Commands of the roster service: what callers ask for, validated before anything is read.

Most double as the HTTP request bodies, so their field descriptions and examples appear in the
OpenAPI document; the others (:class:`ForgetMember`, the account records) are built by routes
that take no body.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from contracts.roster import UNIT_CODE
from eventspine.text import FREE_TEXT, ONE_LINE, StorableText
from roster import codes
from roster.events import Tier, UnitKind

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), ONE_LINE
]
UnitName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE
]
UnitCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=UNIT_CODE)]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 \-]{4,19}$")
]
WeChatId = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z][A-Za-z0-9_\-]{1,63}$")
]
ExternalNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/\-]{0,63}$")
]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), FREE_TEXT
]


class Command(StorableText):
    """Base of the roster's commands: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class RegisterUnit(Command):
    """Register a union organisation under its parent."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "盂县总工会",
                    "kind": "county_union",
                    "parent_unit_id": "0b6f1c1e-8d4e-4a8f-9d55-7c1f0f6a0001",
                }
            ],
            # A city federation stands under none; every other kind under a parent.
            "oneOf": [
                {
                    "properties": {
                        "kind": {"const": "city_federation"},
                        "parent_unit_id": {"type": "null"},
                    }
                },
                {
                    "properties": {
                        "kind": {"enum": ["county_union", "enterprise_union"]},
                        "parent_unit_id": {"type": "string"},
                    },
                    "required": ["parent_unit_id"],
                },
            ],
        }
    )

    unit_id: UUID = Field(
        default_factory=uuid.uuid4,
        description="left out with a code: the id the code gives (as import files derive it)",
    )
    name: UnitName
    kind: UnitKind
    parent_unit_id: UUID | None = None
    code: UnitCode | None = Field(
        None, description="the short key import files and pages know the unit by (YQ-PD)"
    )

    @model_validator(mode="before")
    @classmethod
    def _id_from_code(cls, data: Any) -> Any:
        # A unit with a code has the id import files derive from it: a file can name it.
        if isinstance(data, dict) and data.get("code") and not data.get("unit_id"):
            return {**data, "unit_id": codes.unit_id(str(data["code"]).strip())}
        return data


class RenameUnit(Command):
    """Give a union organisation a new name."""

    name: UnitName


class CloseUnit(Command):
    """Close a union organisation."""

    reason: Reason | None = None


class RegisterMember(Command):
    """Enter a person in the contact database."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "unit_id": "0b6f1c1e-8d4e-4a8f-9d55-7c1f0f6a0003",
                    "tier": "representative",
                    "name": "张东峰",
                    "phone": "13800000000",
                    "wechat_id": "zhang_df",
                    "external_number": "YJ-0042",
                    "registered_on": "2019-03-01",
                }
            ]
        }
    )

    member_id: UUID = Field(default_factory=uuid.uuid4)
    unit_id: UUID
    tier: Tier
    name: Name
    phone: Phone | None = None
    wechat_id: WeChatId | None = None
    external_number: ExternalNumber = Field(description="employee or membership number")
    registered_on: date | None = Field(None, description="defaults to today")


class ChangeDetails(Command):
    """Correct or update a member's personal data."""

    name: Name
    phone: Phone | None = None
    wechat_id: WeChatId | None = None


class ChangeTier(Command):
    """Move a member to another tier; every link of theirs ends."""

    tier: Tier
    changed_on: date | None = None


class MoveMember(Command):
    """Move a member to another union organisation (links stay)."""

    unit_id: UUID
    moved_on: date | None = None


class DepartMember(Command):
    """A member leaves; all of their links end and their lower members are left unlinked."""

    departed_on: date | None = None
    reason: Reason | None = None


class ForgetMember(Command):
    """Destroy a member's key (departing them first if still active)."""

    member_id: UUID


class LinkMember(Command):
    """An upper member takes a lower member of the next tier down into their contacts."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "upper_member_id": "5e8f2a8e-1b7c-4f55-8a37-1d2a3b4c0001",
                    "lower_member_id": "5e8f2a8e-1b7c-4f55-8a37-1d2a3b4c0002",
                    "assigned_on": "2026-03-01",
                }
            ]
        }
    )

    upper_member_id: UUID
    lower_member_id: UUID
    assigned_on: date | None = None
    span_override_reason: Reason | None = Field(
        None, description="required to exceed the upper member's target span"
    )


class UnlinkMember(Command):
    """End a lower member's link to their upper member."""

    lower_member_id: UUID
    unassigned_on: date | None = None


class RelinkMember(Command):
    """Move a lower member to another upper member in one step."""

    lower_member_id: UUID
    upper_member_id: UUID = Field(description="the new upper member")
    assigned_on: date | None = None
    span_override_reason: Reason | None = None


class ChangeSpanPolicy(Command):
    """Change the target spans (recorded as an event)."""

    leader: int = Field(ge=1, le=1000)
    committee: int = Field(ge=1, le=1000)
    representative: int = Field(ge=1, le=1000)
    reason: Reason


class RecordAccountDisabled(Command):
    """Record that an account was disabled: tokens issued until ``disabled_at`` are revoked."""

    account_id: UUID
    disabled_at: datetime


class RecordPasswordChanged(Command):
    """Record that an account's password changed: tokens issued until ``changed_at`` are
    revoked."""

    account_id: UUID
    changed_at: datetime


HandbookText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000), FREE_TEXT
]


class PublishHandbook(Command):
    """Publish a new version of the handbook (its whole text, in Markdown)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "# 工会代表联系职工群众工作手册\n\n每年同每名联系人至少联系两次。",
                    "note": "增加联系方式一节",
                    "expected_version": 1,
                }
            ]
        }
    )

    text: HandbookText
    note: Reason | None = None
    expected_version: int | None = Field(
        None,
        ge=0,
        description="the version the text was edited from (0: none yet); another version in "
        "force then is refused, so an edit never silently replaces a newer one",
    )

    @field_validator("expected_version", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        # JSON's false is not version 0 (1.0 is an integer, as JSON Schema counts them).
        if isinstance(value, bool):
            raise PydanticCustomError("wrong_type", "a version is a number, not true or false")
        return value
