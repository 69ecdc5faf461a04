"""Commands of the workers' door: intake links, a worker's suggestion, ratings, setting aside.

As in :mod:`feedback.commands`, the acting member (or, on the public pages, the signed link
or the follow-up code) is not part of a command: it comes from the token or the path.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from eventspine.text import FREE_TEXT
from feedback.commands import Command, Reason, TagCode, Text
from feedback.events import Category, IntakeOwner, Rating, SetAsideMark

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), FREE_TEXT
]
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 \-]{5,22}$"),
]


class IssueIntakeLink(Command):
    """Issue a new intake link (and QR code): your own, or an enterprise union's, naming the
    member who receives what arrives by it. The owner's live link, if any, is revoked."""

    link_id: UUID | None = Field(
        None, description="client-chosen id; by default derived from the Idempotency-Key"
    )
    owner: IntakeOwner = Field("representative", description="representative (yours) or unit")
    unit_id: UUID | None = Field(None, description="for a unit's link: the enterprise union")
    holder_id: UUID | None = Field(None, description="for a unit's link: who receives")


class RevokeIntakeLink(Command):
    """Withdraw an intake link: it no longer opens the intake page."""


class SubmitSuggestion(Command):
    """A worker's suggestion through an intake link: the text, a category, and a name and a
    phone if the worker wants to be known (a phone the roster knows links the suggestion to
    the worker's record)."""

    suggestion_id: UUID | None = Field(
        None, description="client-chosen id; by default derived from the Idempotency-Key"
    )
    text: Text = Field(description="what the worker says, 1 to 2000 characters")
    category: Category
    tags: list[TagCode] = Field(
        default_factory=list,
        max_length=10,
        description="codes from /tags; none chosen: suggested from the text by their keywords",
    )
    name: Name | None = None
    phone: Phone | None = None
    anonymous: bool = Field(False, description="true: the name and phone are not kept")

    @model_validator(mode="after")
    def _anonymous(self) -> SubmitSuggestion:
        if self.anonymous and (self.name or self.phone):
            # What an anonymous worker typed before ticking the box is dropped, not stored.
            return self.model_copy(update={"name": None, "phone": None})
        return self


class RateSuggestion(Command):
    """Say whether the answer or outcome solved it: satisfied, basically satisfied or
    dissatisfied, with a comment; a dissatisfied raiser may reopen it."""

    rating: Rating
    comment: Reason | None = None
    reopen: bool = False


class RateOwnSuggestion(RateSuggestion):
    """Rate the answer or outcome of a suggestion you raised (as a member): satisfied or
    basically satisfied closes it; dissatisfied may reopen it."""


class SetSuggestionAside(Command):
    """Set a suggestion you hold aside as spam, or as a duplicate of another, saying why."""

    mark: SetAsideMark
    reason: Reason
    duplicate_of: UUID | None = None
