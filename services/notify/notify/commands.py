"""Commands of the notify service (frozen pydantic models; routes build them)."""

from __future__ import annotations

import re
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]{2,63}")


class Command(BaseModel):
    """Base: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class MarkRead(Command):
    """The member has read one of their notifications."""

    notification_id: UUID


class SetPreferences(Command):
    """A member's channels: an email address (none: no email) and whether digests come."""

    email: str | None = Field(None, max_length=320, description="where emails go; null: none")
    digests: bool = Field(True, description="false: no contacts-due digests (non-essential)")

    @field_validator("email")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        value = value.strip()
        if not EMAIL.fullmatch(value):
            raise ValueError("not an email address (name@example.org)")
        return value


class IssueCalendarFeed(Command):
    """Make the member a new secret calendar URL (the earlier ones keep working until
    revoked)."""

    feed_id: UUID | None = Field(None, description="left out: from the Idempotency-Key")


class RevokeCalendarFeed(Command):
    """Stop a calendar URL answering."""

    feed_id: UUID
