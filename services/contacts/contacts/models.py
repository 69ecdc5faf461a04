"""What the contacts service's HTTP API answers."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field

from compliance.rule import Status
from contacts.events import Initiator, Method, Topic


class ContactPublic(BaseModel):
    """A contact with its current (corrected) values."""

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
    retracted: bool


class LinkPublic(BaseModel):
    """A link period from the roster replica."""

    link_id: UUID
    upper_member_id: UUID
    lower_member_id: UUID
    assigned_on: date
    unassigned_on: date | None


class Standing(BaseModel):
    """Where a link stands in a period under the contact rule."""

    period: str
    required: int
    counted: int
    status: Status
    next_due: date | None


class ContactCard(BaseModel):
    """The contact card (联系卡) of one link: every contact, counts per year, what is due."""

    link: LinkPublic
    contacts: list[ContactPublic]
    counts_per_year: dict[str, int]
    last_contact_on: date | None
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
