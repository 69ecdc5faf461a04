"""What the feedback service's HTTP API answers (read models and command results)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from eventspine.envelope import RecordedEvent
from feedback.events import Category, Channel
from servicekit import http as servicekit_http


class CommandAccepted(servicekit_http.CommandAccepted):
    """A command's outcome: the suggestion and the events appended."""

    suggestion_id: UUID

    @classmethod
    def naming(cls, suggestion_id: UUID, events: Sequence[RecordedEvent]) -> CommandAccepted:
        """The answer naming ``suggestion_id`` and the ``events`` a command appended."""
        return cls(suggestion_id=suggestion_id, events=servicekit_http.refs(events))


class TimelineEntry(BaseModel):
    """One step in a suggestion's life."""

    stream_version: int
    type: str
    time: datetime
    actor: str = Field(description="member:<id>, or the scheduler for automatic escalations")
    level: int | None
    holder_id: UUID | None = Field(None, description="for raises, escalations and reopenings")
    reason: str | None = Field(None, description="why it was escalated")
    department: str | None = None
    text: str | None = Field(None, description="text, note, answer, outcome or reason, in clear")


class SuggestionPublic(BaseModel):
    """A suggestion as the feedback service shows it. Texts are null once shredded."""

    suggestion_id: UUID
    raised_by: UUID | None = Field(description="null: a worker without an account, by a link")
    on_behalf_of: UUID | None = Field(
        description="the worker it speaks for (for a link's suggestion: the matched worker)"
    )
    category: Category
    channel: Channel
    text: str | None
    status: str = Field(
        description="held, acknowledged, answered, assigned, resolved, closed or set_aside"
    )
    holder_id: UUID | None = Field(description="null: with the federation leadership")
    holder_tier: str | None
    level: int
    department: str | None
    answer: str | None
    outcome: str | None
    raised_at: datetime
    arrived_at: datetime = Field(description="when the current holder received it")
    due_at: datetime | None = Field(description="when the current holder's deadline passes")
    due_kind: str | None = Field(
        description="acknowledge or answer; department: the department's outcome; "
        "department_overdue: the department's deadline passed, it is back with its assigner (超期)"
    )


class SuggestionWithTimeline(SuggestionPublic):
    """A suggestion and every step of its life."""

    timeline: list[TimelineEntry]


class SuggestionsPublic(BaseModel):
    """A page of suggestions."""

    data: list[SuggestionPublic]
    count: int = Field(description="all matching suggestions, not only this page")


class Department(BaseModel):
    """A federation department suggestions can be assigned to."""

    code: str
    name: str
