"""What the contacts service's HTTP API answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from compliance.rule import Status
from contacts.events import Initiator, Method, Topic

CorrectedField = Literal["contacted_on", "method", "note"]


class ContactCorrection(BaseModel):
    """One correction of a contact (an event ``ContactCorrected``): when, why, and its values
    before and after."""

    corrected_at: datetime = Field(description="when the correction was recorded")
    reason: str
    changed: list[CorrectedField] = Field(
        description="the fields whose values the correction changed (empty: it restated them)"
    )
    contacted_on_from: date
    contacted_on_to: date
    method_from: Method
    method_to: Method
    note_changed: bool | None = Field(
        description="whether the note changed (the notes themselves stay sealed in the "
        "events); null when it can no longer be told because the lower member is forgotten"
    )


class ContactRetraction(BaseModel):
    """The withdrawal of a contact logged in error (an event ``ContactRetracted``)."""

    retracted_at: datetime = Field(description="when the retraction was recorded")
    reason: str


class ContactPublic(BaseModel):
    """A contact with its current (corrected) values, its corrections, oldest first, and its
    retraction if it was withdrawn."""

    contact_id: UUID
    link_id: UUID
    upper_member_id: UUID
    lower_member_id: UUID
    contacted_on: date
    method: Method
    initiated_by: Initiator
    topics: list[Topic]
    note: str | None = Field(description="null once the lower member is forgotten")
    meeting_id: UUID | None
    retracted: bool = Field(description="withdrawn: shown on the card, counted nowhere")
    corrections: list[ContactCorrection] = Field(
        default_factory=list, description="every correction, oldest first"
    )
    retraction: ContactRetraction | None = Field(None, description="null unless retracted")


class LinkPublic(BaseModel):
    """A link period from the roster replica."""

    link_id: UUID
    upper_member_id: UUID
    lower_member_id: UUID
    assigned_on: date
    unassigned_on: date | None


class Standing(BaseModel):
    """Where a link stands in a period under the contact rule (:mod:`compliance.rule`): a link
    active the whole period owes the rule's minimum (2 a year by default); one active for part
    of it owes its share of the minimum, rounded, and at least 1."""

    period: str
    required: int = Field(
        description="contacts the link owes in the period: the minimum for a whole period, "
        "a prorated share (at least 1) for a link active only part of it"
    )
    counted: int = Field(description="contacts dated in the period on the link's active days")
    status: Status
    next_due: date | None
    active_from: date | None = Field(
        None, description="the first day of the period the link was active (null: not active)"
    )
    active_until: date | None = Field(
        None, description="the last day of the period the link was active (null: not active)"
    )
    whole_period: bool = Field(
        False, description="active every day of the period (so it owes the full minimum)"
    )


class ContactCard(BaseModel):
    """The contact card (联系卡) of one link: every contact ever logged on it, retracted ones
    included (marked ``retracted``) and corrected ones with their corrections; the counts, the
    last contact and the standing count only the contacts not retracted."""

    link: LinkPublic
    contacts: list[ContactPublic] = Field(description="every contact, by date")
    counts_per_year: dict[str, int] = Field(description="contacts not retracted, per year")
    last_contact_on: date | None = Field(description="the latest contact not retracted")
    standing: Standing


class LinkStatus(BaseModel):
    """One of a member's links with its standing in the current period."""

    link: LinkPublic
    last_contact_on: date | None
    standing: Standing


class DueList(BaseModel):
    """A member's links that still need contacts this period, the most urgent first."""

    member_id: UUID
    period: str
    data: list[LinkStatus]
    count: int
