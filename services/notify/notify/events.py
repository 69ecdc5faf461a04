"""Events of the notify service: what was decided someone must be told, and what became of it.

Names and versions are the public contract on ``sanlian.notify.events`` (an auditor can see
that a member was reminded three times before a link went overdue): a change of shape is a new
version with an upcaster, never an edit. Members are referred to by id only; what a
notification says (its title and text) and a member's address are sealed under the member's
key in this service's vault (``eventspine.crypto``), shredded when the roster forgets them.

Streams: ``notification-<id>`` holds one notification's life (issued, then for each channel
attempts and their outcome, read); ``member-<id>`` a member's preferences and calendar feeds;
``staff-<account id>`` a staff account's preferences (federation staff have no member).
The notification id follows from what it is about (:func:`notify.domain.notification_id`), so
deciding the same notification twice appends once (the stream must not exist yet).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from eventspine.events import DomainEvent, EventCatalogue

Kind = Literal[
    "contacts_due",  # 联系提醒: the period's digest of links still owing contacts
    "contact_overdue",  # a link's contact became overdue
    "suggestion_arrived",  # a suggestion reached its holder
    "suggestion_deadline",  # the holder's deadline is near (还剩 1 个工作日将自动上报)
    "suggestion_escalated",  # a suggestion reached the next holder up
    "suggestion_answered",  # the raiser's suggestion was answered
    "suggestion_resolved",  # the raiser's suggestion was resolved by a department
    "urge",  # 督办: staff nudged a member
]
Frequency = Literal["federation", "monthly"]
"""How often a member takes the contacts-due digests."""
DeliveryChannel = Literal["email", "webhook"]
"""Channels a notification is sent on; the frontend (待办) and the calendar feed read it."""

SEALED = Field(
    pattern=r"^v1\.[A-Za-z0-9_\-]+$",
    description="sealed with the member's key (v1.<base64url>); unreadable once shredded",
)


class NotificationIssued(DomainEvent):
    """The service decided a member must be told something; the sealed body says what."""

    event_type = "NotificationIssued"
    event_version = 1

    notification_id: UUID = Field(description="uuid5 of member, kind, subject, period, due date")
    member_id: UUID = Field(description="who is told")
    kind: Kind
    subject: str = Field(
        min_length=1,
        max_length=100,
        description="what it is about: 'digest', a link id or a suggestion id (no personal data)",
    )
    period: str = Field(max_length=20, description="the rule period's label (2026), or ''")
    due_on: date | None = Field(None, description="the date it concerns (occasion, deadline)")
    essential: bool = Field(description="false: a digest the member may opt out of")
    channels: list[DeliveryChannel] = Field(
        default_factory=list, max_length=2, description="where it is to be sent besides 待办"
    )
    body: str = SEALED


class DeliveryAttempted(DomainEvent):
    """A send on one channel is about to start: recorded before the send (the outbox's intent),
    so a crash leaves the attempt visible and the next one knows it is a retry."""

    event_type = "DeliveryAttempted"
    event_version = 1

    notification_id: UUID
    channel: DeliveryChannel
    attempt: int = Field(ge=1)
    at: datetime


class DeliveryHandedOver(DomainEvent):
    """An email's envelope was accepted (the SMTP server took MAIL and RCPT) and its data is
    about to be sent under ``message_id``. Before this event a crash leaves the attempt surely
    unsent (the server keeps no message of a transaction without data); after it, until the
    outcome, in doubt: the server may have accepted the message."""

    event_type = "DeliveryHandedOver"
    event_version = 1

    notification_id: UUID
    channel: DeliveryChannel
    attempt: int = Field(ge=1)
    at: datetime
    message_id: str = Field(min_length=3, max_length=200, description="the email's Message-ID")


class NotificationDelivered(DomainEvent):
    """The channel accepted the notification (the SMTP server, the group robot)."""

    event_type = "NotificationDelivered"
    event_version = 1

    notification_id: UUID
    channel: DeliveryChannel
    attempt: int = Field(ge=1)
    at: datetime


class DeliveryFailed(DomainEvent):
    """An attempt failed; ``retry_at`` says when the next one may start, or it is permanent."""

    event_type = "DeliveryFailed"
    event_version = 1

    notification_id: UUID
    channel: DeliveryChannel
    attempt: int = Field(ge=1)
    at: datetime
    reason: str = Field(
        min_length=1, max_length=200, description="the channel's answer (no personal data)"
    )
    permanent: bool
    retry_at: datetime | None = None


class NotificationRead(DomainEvent):
    """The member marked the notification read (on the notifications page)."""

    event_type = "NotificationRead"
    event_version = 1

    notification_id: UUID
    member_id: UUID
    at: datetime


class PreferencesSet(DomainEvent):
    """A member's channels: an email address (sealed) and whether they take digests."""

    event_type = "PreferencesSet"
    event_version = 1

    member_id: UUID
    email: str | None = Field(None, pattern=r"^v1\.[A-Za-z0-9_\-]+$", description="sealed")
    digests: bool = Field(True, description="false: no non-essential digests")
    frequency: Frequency = Field(
        "federation", description="federation: the federation's cadence; monthly: no weekly ones"
    )


class CalendarFeedIssued(DomainEvent):
    """A member's secret calendar URL was made; only a keyed digest of its token is kept."""

    event_type = "CalendarFeedIssued"
    event_version = 1

    member_id: UUID
    feed_id: UUID
    token_digest: str = Field(pattern=r"^[0-9a-f]{64}$", description="HMAC-SHA-256 of the token")


class CalendarFeedRevoked(DomainEvent):
    """A member's calendar URL stops answering (a new one may be issued)."""

    event_type = "CalendarFeedRevoked"
    event_version = 1

    member_id: UUID
    feed_id: UUID


WebhookFormat = Literal["wecom", "dingtalk"]
"""企业微信群机器人 or 钉钉自定义机器人: each its documented JSON message format."""
UnitKind = Literal["unit_digest", "urge"]


class UnitWebhookSet(DomainEvent):
    """Staff set (or, with no address, removed) a unit's group robot. Its address holds the
    robot's key, and a 钉钉 robot may have a signing secret: both sealed under the unit's key."""

    event_type = "UnitWebhookSet"
    event_version = 1

    unit_id: UUID
    format: WebhookFormat | None = Field(None, description="null: the webhook was removed")
    address: str | None = Field(None, pattern=r"^v1\.[A-Za-z0-9_\-]+$", description="sealed")


class UnitNotificationIssued(DomainEvent):
    """The service decided a unit's group must be told something (its monthly digest of the
    members most behind, or a 督办); sent to the unit's group robot, the body sealed under the
    unit's key."""

    event_type = "UnitNotificationIssued"
    event_version = 1

    notification_id: UUID = Field(description="uuid5 of unit, kind, subject, period, due date")
    unit_id: UUID
    kind: UnitKind
    subject: str = Field(min_length=1, max_length=100)
    period: str = Field(max_length=20)
    due_on: date | None = None
    channels: list[DeliveryChannel] = Field(default_factory=list, max_length=1)
    body: str = SEALED


class MemberUrged(DomainEvent):
    """Staff urged (督办) a member or a unit: the recorded nudge, sent as a notification."""

    event_type = "MemberUrged"
    event_version = 1

    urge_id: UUID
    member_id: UUID | None = None
    unit_id: UUID | None = None


class StaffPreferencesSet(DomainEvent):
    """A staff account's channels for the units' monthly digests: an email address (sealed
    under the account's key) and the units whose digest it takes."""

    event_type = "StaffPreferencesSet"
    event_version = 1

    account_id: UUID = Field(description="the staff account (federation staff have no member)")
    email: str | None = Field(None, pattern=r"^v1\.[A-Za-z0-9_\-]+$", description="sealed")
    units: list[UUID] = Field(
        default_factory=list, max_length=1000, description="the units whose monthly digest it takes"
    )


class StaffNotificationIssued(DomainEvent):
    """The service decided a staff account must be told something (a unit's monthly digest of
    the members most behind): on its notifications page, and by email when it chose one; the
    body sealed under the account's key."""

    event_type = "StaffNotificationIssued"
    event_version = 1

    notification_id: UUID = Field(description="uuid5 of account, kind, subject, period, due date")
    account_id: UUID
    kind: Literal["unit_digest"]
    subject: str = Field(min_length=1, max_length=100, description="the unit's id")
    period: str = Field(max_length=20)
    due_on: date | None = None
    channels: list[DeliveryChannel] = Field(default_factory=list, max_length=1)
    body: str = SEALED


CATALOGUE = EventCatalogue(
    [
        NotificationIssued,
        DeliveryAttempted,
        DeliveryHandedOver,
        NotificationDelivered,
        DeliveryFailed,
        NotificationRead,
        PreferencesSet,
        CalendarFeedIssued,
        CalendarFeedRevoked,
        UnitWebhookSet,
        UnitNotificationIssued,
        MemberUrged,
        StaffPreferencesSet,
        StaffNotificationIssued,
    ]
)
