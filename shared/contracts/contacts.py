"""Events of the contacts service: contacts logged on roster links, and their corrections.

A contact names its link by ``link_id``: the id of the roster's ``MemberAssigned`` event that
created the link, so a relinked member's old and new links keep separate contact cards. The
optional note is sealed (``eventspine.crypto``) under a key per lower member, kept by this
service and destroyed when the roster forgets the member.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import Field

from eventspine.events import DomainEvent, EventCatalogue

Method = Literal["meeting", "visit", "phone", "online"]
Initiator = Literal["upper", "lower"]
Topic = Literal["wages", "safety", "training", "welfare", "rights", "production", "living", "other"]
SEALED_NOTE = Field(None, description="the note, sealed with the lower member's key")


class ContactMade(DomainEvent):
    """An upper and a lower member of a link were in contact (座谈, 走访, 电话, 网络)."""

    event_type = "ContactMade"
    event_version = 1

    contact_id: UUID
    link_id: UUID = Field(description="id of the roster's MemberAssigned event of the link")
    upper_member_id: UUID
    lower_member_id: UUID
    contacted_on: date
    method: Method
    initiated_by: Initiator
    topics: list[Topic] = Field(default_factory=list, max_length=8)
    note: str | None = SEALED_NOTE
    meeting_id: UUID | None = Field(None, description="shared by the contacts of one meeting")


class ContactCorrected(DomainEvent):
    """A contact's date, method or note was corrected; the values here replace the old ones."""

    event_type = "ContactCorrected"
    event_version = 1

    contact_id: UUID
    contacted_on: date
    method: Method
    note: str | None = SEALED_NOTE
    reason: str = Field(min_length=1, max_length=500)


class ContactRetracted(DomainEvent):
    """A contact was logged in error and no longer counts."""

    event_type = "ContactRetracted"
    event_version = 1

    contact_id: UUID
    reason: str = Field(min_length=1, max_length=500)


CATALOGUE = EventCatalogue([ContactMade, ContactCorrected, ContactRetracted])
