"""Commands of the contacts service (also the HTTP request bodies)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated
from uuid import UUID

from pydantic import ConfigDict, Field, StringConstraints

from contacts.events import Initiator, Method, Topic
from eventspine.text import FREE_TEXT, StorableText

NOTE_LIMIT = 500
"""The longest note a contact may carry, in characters (documented in the API)."""

Note = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NOTE_LIMIT), FREE_TEXT
]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), FREE_TEXT
]


class Command(StorableText):
    """Base of the contacts commands: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class LogContact(Command):
    """Log one contact on a link between an upper and a lower member."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "upper_member_id": "5e8f2a8e-1b7c-4f55-8a37-1d2a3b4c0001",
                    "lower_member_id": "5e8f2a8e-1b7c-4f55-8a37-1d2a3b4c0002",
                    "contacted_on": "2026-03-15",
                    "method": "visit",
                    "initiated_by": "upper",
                    "topics": ["safety"],
                    "note": "井下通风问题已反映",
                }
            ]
        }
    )

    contact_id: UUID = Field(default_factory=uuid.uuid4)
    upper_member_id: UUID
    lower_member_id: UUID
    contacted_on: date
    method: Method
    initiated_by: Initiator = "upper"
    topics: list[Topic] = Field(default_factory=list, max_length=8)
    note: Note | None = Field(None, description=f"at most {NOTE_LIMIT} characters")


class LogMeeting(Command):
    """One forum with several of a member's contacts: a contact on each participant's link."""

    meeting_id: UUID = Field(default_factory=uuid.uuid4)
    upper_member_id: UUID
    lower_member_ids: list[UUID] = Field(
        min_length=1,
        max_length=200,
        json_schema_extra={"uniqueItems": True},
        description="the participants, each once",
    )
    contacted_on: date
    method: Method = "meeting"
    topics: list[Topic] = Field(default_factory=list, max_length=8)
    note: Note | None = None


class CorrectContact(Command):
    """Correct a contact's date, method or note (the others stay as they were); at least one
    of them is given."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
                for name in ("contacted_on", "method", "note")
            ]
        }
    )

    contacted_on: date | None = None
    method: Method | None = None
    note: Note | None = None
    reason: Reason


class RetractContact(Command):
    """Withdraw a contact logged in error."""

    reason: Reason
