"""Commands of the notify service (frozen pydantic models; routes build them)."""

from __future__ import annotations

import re
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]{2,63}")
URL = re.compile(r"https?://[^\s/]+(/\S*)?")


def email_address(value: str | None) -> str | None:
    """An email address as sent (None or empty: none); refused unless it has the form."""
    if value is None or value == "":
        return None
    if not EMAIL.fullmatch(value):  # as sent: the frontend trims what people type
        raise PydanticCustomError(
            "pattern_mismatch",
            "not an email address (name@example.org)",
            {"pattern": EMAIL.pattern},
        )
    return value


class Command(BaseModel):
    """Base: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class MarkRead(Command):
    """The member has read one of their notifications."""

    notification_id: UUID


class SetPreferences(Command):
    """A member's channels: an email address (none: no email) and whether digests come."""

    email: str | None = Field(
        None,
        max_length=320,
        description="where emails go; null or empty: none",
        json_schema_extra={"pattern": f"^$|^{EMAIL.pattern}$"},
    )
    digests: bool = Field(
        True,
        strict=True,  # true or false as JSON writes them, not 0 or "yes"
        description="false: no contacts-due digests (non-essential)",
    )
    frequency: Literal["federation", "monthly"] = Field(
        "federation", description="federation: its cadence; monthly: the monthly digests only"
    )

    @field_validator("email")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return email_address(value)


class SetStaffPreferences(Command):
    """A staff account's channels: an email address (none: the notifications page only) and
    the units whose monthly digest of the members most behind it takes."""

    email: str | None = Field(
        None,
        max_length=320,
        description="where emails go; null or empty: none",
        json_schema_extra={"pattern": f"^$|^{EMAIL.pattern}$"},
    )
    units: list[UUID] = Field(
        default_factory=list, max_length=1000, description="the units whose digest comes"
    )

    @field_validator("email")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return email_address(value)


class IssueCalendarFeed(Command):
    """Make the member a new secret calendar URL (the earlier ones keep working until
    revoked)."""

    feed_id: UUID | None = Field(None, description="left out: from the Idempotency-Key")


class RevokeCalendarFeed(Command):
    """Stop a calendar URL answering."""

    feed_id: UUID


class SetUnitWebhook(Command):
    """Set a unit's group robot (企业微信 or 钉钉), or remove it (no format)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {
                    "properties": {
                        "format": {"type": "null"},
                        "address": {"type": "null"},
                        "secret": {"type": "null"},
                    }
                },
                {
                    "properties": {
                        "format": {"enum": ["wecom", "dingtalk"]},
                        "address": {"type": "string", "pattern": f"^{URL.pattern}$"},
                    },
                    "required": ["format", "address"],
                },
            ]
        }
    )

    format: Literal["wecom", "dingtalk"] | None = Field(
        None, description="wecom (企业微信群机器人) or dingtalk (钉钉自定义机器人); null: remove"
    )
    address: str | None = Field(
        None, max_length=500, description="the robot's webhook address (https://...)"
    )
    secret: str | None = Field(None, max_length=200, description="钉钉 加签 secret, if any")

    @model_validator(mode="after")
    def _complete(self) -> SetUnitWebhook:
        if self.format is not None:
            if not self.address or not URL.fullmatch(self.address):
                raise PydanticCustomError(
                    "required",
                    "an http(s) address is needed with a format",
                    {"field": "address"},
                )
        elif self.address or self.secret:
            raise PydanticCustomError(
                "required",
                "a format is needed with an address (null only removes the webhook)",
                {"field": "format"},
            )
        return self


class Urge(Command):
    """督办: nudge a member (by their channels) or a unit (by its group robot)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "properties": {"member_id": {"type": "string"}, "unit_id": {"type": "null"}},
                    "required": ["member_id"],
                },
                {
                    "properties": {"unit_id": {"type": "string"}, "member_id": {"type": "null"}},
                    "required": ["unit_id"],
                },
            ]
        }
    )

    urge_id: UUID | None = Field(None, description="left out: from the Idempotency-Key")
    member_id: UUID | None = Field(None, description="the member to urge, or")
    unit_id: UUID | None = Field(None, description="the unit to urge (one of the two)")

    @model_validator(mode="after")
    def _one(self) -> Urge:
        if (self.member_id is None) == (self.unit_id is None):
            raise PydanticCustomError(
                "one_target_required",
                "name either a member or a unit (unit_id), not both",
                {"field": "member_id"},
            )
        return self
