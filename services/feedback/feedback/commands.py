"""Commands of the feedback service: what callers ask for, validated before anything is read.

Most double as the HTTP request bodies, so their descriptions and examples show in OpenAPI;
the steps that take no body (acknowledge, close) are built by their routes, and the scheduler
builds :class:`EscalateOverdue`. The acting member and the suggestion a step acts on are not
part of a command: they are the signed-in member (the access token) and the path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, StringConstraints

from eventspine.text import FREE_TEXT, StorableText
from feedback.events import Category, Channel

TagCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]

MAX_TEXT = 2000
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT), FREE_TEXT
]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), FREE_TEXT
]


class Command(StorableText):
    """Base of the feedback commands: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class RaiseSuggestion(Command):
    """Raise a suggestion, for yourself or (as a representative) for one of your workers."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "作为代表，常遇到职工提出的问题答不上来，市总工会能否培训职工代表？",
                    "category": "training",
                    "channel": "online",
                }
            ],
            # What the choice needs: an answer to answer now, a reason to pass it up.
            "anyOf": [
                {"properties": {"then": {"type": "null"}}},
                {
                    "properties": {"then": {"const": "answer"}, "answer": {"type": "string"}},
                    "required": ["then", "answer"],
                },
                {
                    "properties": {"then": {"const": "pass_up"}, "reason": {"type": "string"}},
                    "required": ["then", "reason"],
                },
            ],
        }
    )

    suggestion_id: UUID | None = Field(
        None, description="client-chosen id; by default derived from the Idempotency-Key"
    )
    text: Text = Field(description=f"what was said, 1 to {MAX_TEXT} characters")
    category: Category
    channel: Channel = Field(description="how it reached the union")
    on_behalf_of: UUID | None = Field(
        None, description="a worker you are the upper contact of, when you raise it for them"
    )
    then: Literal["answer", "pass_up"] | None = Field(
        None,
        description="raising for your own worker, you would hold it yourself, so say what "
        "happens: answer it now (with ``answer``) or pass it up at once (with ``reason``); "
        "left out then, the raise is refused (``raise_choice_required``); otherwise leave it out",
    )
    answer: Text | None = Field(None, description="with then=answer: your answer")
    reason: Reason | None = Field(None, description="with then=pass_up: why it goes up")
    tags: list[TagCode] = Field(
        default_factory=list,
        max_length=10,
        description="codes from /tags; none chosen: suggested from the text by their keywords",
    )


class AcknowledgeSuggestion(Command):
    """Say you have seen a suggestion you hold."""


class EscalateSuggestion(Command):
    """Pass a suggestion you hold to your own upper contact."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "需要市总工会统筹安排培训"}]}
    )

    reason: Reason


class AnswerSuggestion(Command):
    """Answer a suggestion you hold and have acknowledged."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"answer": "市总工会将举办职工代表培训班。"}]}
    )

    answer: Text


class AssignSuggestion(Command):
    """At the top of the chain, give a suggestion to a federation department."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"department": "training"}]})

    department: str = Field(min_length=1, max_length=40, description="a code from /departments")


class ResolveSuggestion(Command):
    """Record the outcome of the department's work."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"outcome": "举办首期职工代表培训班，培训125名职工代表"}]}
    )

    outcome: Text


class CloseSuggestion(Command):
    """Confirm the answer or outcome of a suggestion you raised."""


class ReopenSuggestion(Command):
    """Say why the answer or outcome does not satisfy you."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "培训名额不够"}]})

    reason: Reason


class EscalateOverdue(Command):
    """Pass a suggestion up by itself if, at ``at``, its holder's deadline has passed or its
    holder has departed (the scheduler's command; nothing happens otherwise)."""

    at: datetime
