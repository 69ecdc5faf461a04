"""Load, decide, seal, append: the notify service's handlers, the table of routes at the end.

Two kinds of callers: the routes (a member marks a notification read, sets their channels,
makes or revokes a calendar URL), through the command pipeline; and the scheduler and the
sender, which issue notifications and record each send's intent and outcome directly (they
have no Idempotency-Key: the notification's own id makes issuing idempotent, and each attempt
is appended at the stream version it read, so two instances never both send).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from pydantic import BaseModel

from eventspine.crypto import KeyDestroyedError, PersonalDataVault
from eventspine.envelope import RecordedEvent
from eventspine.errors import ConcurrencyError, NotFoundError, NotPermittedError
from eventspine.events import DomainEvent
from eventspine.store.base import NO_STREAM, AppendRequest, CommandContext, EventStore
from notify import commands as cmd
from notify.domain import notification_id
from notify.events import (
    CalendarFeedIssued,
    CalendarFeedRevoked,
    DeliveryAttempted,
    DeliveryChannel,
    DeliveryFailed,
    DeliveryHandedOver,
    Kind,
    MemberUrged,
    NotificationDelivered,
    NotificationIssued,
    NotificationRead,
    PreferencesSet,
    StaffNotificationIssued,
    StaffPreferencesSet,
    UnitKind,
    UnitNotificationIssued,
    UnitWebhookSet,
)
from servicekit.commands import Route, route

SCHEDULER_ACTOR = "service:notify-scheduler"
Content = dict[str, str | None]
UrgeContent = Callable[[UUID | None, UUID | None], Awaitable[tuple[Content, list[DeliveryChannel]]]]
"""``(member_id, unit_id) -> (title and text, channels)`` of an urge."""


def notification_stream(nid: UUID) -> str:
    """The stream of one notification."""
    return f"notification-{nid}"


def member_stream(member_id: UUID) -> str:
    """The stream of a member's preferences and calendar feeds."""
    return f"member-{member_id}"


@dataclass
class ChannelState:
    """One channel of one notification, folded from its stream."""

    attempts: int = 0
    last_attempt_at: datetime | None = None
    outcome_of_last: bool = True
    handed_over_last: bool = False
    """Whether the last attempt's data went to the server (from then on a crash is in doubt)."""
    delivered: bool = False
    permanent: bool = False


@dataclass
class NotificationState:
    """A notification's stream, folded: what it says (sealed) and each channel's sends."""

    issued: NotificationIssued | UnitNotificationIssued | StaffNotificationIssued | None = None
    version: int = 0
    channels: dict[str, ChannelState] = field(default_factory=dict)
    read: bool = False

    def channel(self, name: str) -> ChannelState:
        """The state of ``name`` (new if never tried)."""
        return self.channels.setdefault(name, ChannelState())


def evolve(state: NotificationState, event: DomainEvent) -> NotificationState:
    """Apply one event of a notification's stream."""
    state.version += 1
    match event:
        case NotificationIssued() | UnitNotificationIssued() | StaffNotificationIssued():
            state.issued = event
        case DeliveryAttempted():
            channel = state.channel(event.channel)
            channel.attempts = event.attempt
            channel.last_attempt_at = event.at
            channel.outcome_of_last = False
            channel.handed_over_last = False
        case DeliveryHandedOver():
            state.channel(event.channel).handed_over_last = True
        case NotificationDelivered():
            channel = state.channel(event.channel)
            channel.delivered = True
            channel.outcome_of_last = True
        case DeliveryFailed():
            channel = state.channel(event.channel)
            channel.permanent = event.permanent
            channel.outcome_of_last = True
        case NotificationRead():
            state.read = True
    return state


class NotifyHandlers:
    """The notify service's handlers."""

    def __init__(
        self,
        store: EventStore,
        vault: PersonalDataVault,
        feed_secret: bytes,
        urge_content: UrgeContent | None = None,
    ) -> None:
        self.store = store
        self.vault = vault
        self.feed_secret = feed_secret
        self.urge_content = urge_content
        """What an urge says, and where it goes (wired by the composition root)."""

    def _decoded(self, records: list[RecordedEvent]) -> list[DomainEvent]:
        registry = self.store.registry
        return [registry.decode(r.event_type, r.schema_version, r.data) for r in records]

    async def load(self, nid: UUID) -> NotificationState:
        """A notification's state from its stream."""
        state = NotificationState()
        for event in self._decoded(await self.store.read_stream(notification_stream(nid))):
            evolve(state, event)
        return state

    # -- the scheduler's and the sender's --------------------------------------------------

    async def _issued_once(self, nid: UUID, event: DomainEvent, ctx: CommandContext) -> bool:
        """Append a notification's first event unless its stream exists; True if this did."""
        try:
            await self.store.append(notification_stream(nid), NO_STREAM, [event], ctx)
        except ConcurrencyError:
            return False  # issued before (another instance, an earlier tick)
        return True

    async def issue(
        self,
        ctx: CommandContext,
        *,
        member_id: UUID,
        kind: Kind,
        subject: str,
        period: str,
        due_on: date | None,
        essential: bool,
        content: dict[str, str | None],
        channels: list[DeliveryChannel],
    ) -> bool:
        """Issue the notification about ``(member, kind, subject, period, due date)`` unless
        it was issued already (or the member was forgotten); True when this call issued it."""
        nid = notification_id(member_id, kind, subject, period, due_on)
        try:
            body = await self.vault.seal(member_id, content)
        except KeyDestroyedError:
            return False
        event = NotificationIssued(
            notification_id=nid,
            member_id=member_id,
            kind=kind,
            subject=subject,
            period=period,
            due_on=due_on,
            essential=essential,
            channels=channels,
            body=body,
        )
        return await self._issued_once(nid, event, ctx)

    async def issue_unit(
        self,
        ctx: CommandContext,
        *,
        unit_id: UUID,
        kind: UnitKind,
        subject: str,
        period: str,
        due_on: date | None,
        content: Content,
        channels: list[DeliveryChannel],
    ) -> bool:
        """Issue a notification to a unit's group unless it was issued already."""
        nid = notification_id(unit_id, kind, subject, period, due_on)
        event = UnitNotificationIssued(
            notification_id=nid,
            unit_id=unit_id,
            kind=kind,
            subject=subject,
            period=period,
            due_on=due_on,
            channels=channels,
            body=await self.vault.seal(unit_id, content),
        )
        return await self._issued_once(nid, event, ctx)

    async def issue_staff(
        self,
        ctx: CommandContext,
        *,
        account_id: UUID,
        unit_id: UUID,
        period: str,
        due_on: date | None,
        content: Content,
        channels: list[DeliveryChannel],
    ) -> bool:
        """Issue a unit's monthly digest to a staff account unless it was issued already."""
        nid = notification_id(account_id, "unit_digest", str(unit_id), period, due_on)
        event = StaffNotificationIssued(
            notification_id=nid,
            account_id=account_id,
            kind="unit_digest",
            subject=str(unit_id),
            period=period,
            due_on=due_on,
            channels=channels,
            body=await self.vault.seal(account_id, content),
        )
        return await self._issued_once(nid, event, ctx)

    async def begin_attempt(
        self,
        nid: UUID,
        channel: DeliveryChannel,
        now: datetime,
        lease: timedelta,
        ctx: CommandContext,
        in_doubt: str = "resend",
    ) -> tuple[NotificationState, int] | None:
        """Record the intent to send ``nid`` on ``channel`` now, and return the state and the
        attempt's number; None when there is nothing to send (delivered, failed for good) or
        another sender's attempt is still within its ``lease``. An earlier attempt cut off
        after its data was handed over is in doubt: with ``in_doubt="hold"`` it is recorded
        as failed for good (staff see it) instead of being sent again."""
        state = await self.load(nid)
        current = state.channel(channel)
        if state.issued is None or current.delivered or current.permanent:
            return None
        started = current.last_attempt_at
        if not current.outcome_of_last and started is not None:
            if now - started < lease:
                return None  # in flight elsewhere; after the lease it was cut off
            if current.handed_over_last and in_doubt == "hold":
                await self.failed(
                    nid,
                    channel,
                    current.attempts,
                    now,
                    state.version,
                    ctx,
                    reason="in doubt: cut off after the SMTP server took the data; not sent again",
                    retry_at=None,
                )
                return None
        attempt = current.attempts + 1
        event = DeliveryAttempted(
            notification_id=nid, channel=channel, attempt=attempt, at=now.astimezone(UTC)
        )
        try:
            await self.store.append(notification_stream(nid), state.version, [event], ctx)
        except ConcurrencyError:
            return None  # another sender took it
        state.version += 1
        return state, attempt

    async def handed_over(
        self,
        nid: UUID,
        channel: DeliveryChannel,
        attempt: int,
        now: datetime,
        version: int,
        message_id: str,
        ctx: CommandContext,
    ) -> None:
        """Record that the attempt's data is about to go to the server (the append must
        commit before it does: an attempt without this record was surely not delivered)."""
        event = DeliveryHandedOver(
            notification_id=nid,
            channel=channel,
            attempt=attempt,
            at=now.astimezone(UTC),
            message_id=message_id,
        )
        await self._after_attempt(nid, version, event, ctx)

    async def delivered(
        self,
        nid: UUID,
        channel: DeliveryChannel,
        attempt: int,
        now: datetime,
        version: int,
        ctx: CommandContext,
    ) -> None:
        """Record that the channel accepted the notification."""
        event = NotificationDelivered(
            notification_id=nid, channel=channel, attempt=attempt, at=now.astimezone(UTC)
        )
        await self._after_attempt(nid, version, event, ctx)

    async def failed(
        self,
        nid: UUID,
        channel: DeliveryChannel,
        attempt: int,
        now: datetime,
        version: int,
        ctx: CommandContext,
        *,
        reason: str,
        retry_at: datetime | None,
    ) -> None:
        """Record a failed attempt (permanent when ``retry_at`` is None)."""
        event = DeliveryFailed(
            notification_id=nid,
            channel=channel,
            attempt=attempt,
            at=now.astimezone(UTC),
            reason=reason[:200] or "failed",
            permanent=retry_at is None,
            retry_at=retry_at.astimezone(UTC) if retry_at else None,
        )
        await self._after_attempt(nid, version, event, ctx)

    async def _after_attempt(
        self, nid: UUID, version: int, event: DomainEvent, ctx: CommandContext
    ) -> None:
        try:
            await self.store.append(notification_stream(nid), version, [event], ctx)
        except ConcurrencyError:
            # Someone else appended after our intent (a read, say): append on top of it.
            state = await self.load(nid)
            await self.store.append(notification_stream(nid), state.version, [event], ctx)

    # -- the members' commands ---------------------------------------------------------------

    async def mark_read(
        self, command: cmd.MarkRead, ctx: CommandContext, *, member_id: UUID, now: datetime
    ) -> list[RecordedEvent]:
        """Mark one of the member's own notifications read (nothing if it was)."""
        state = await self.load(command.notification_id)
        if state.issued is None:
            raise NotFoundError(
                "notification_id", "no such notification", code="notification_not_found"
            )
        issued = state.issued
        recipient = (
            issued.member_id
            if isinstance(issued, NotificationIssued)
            else issued.account_id
            if isinstance(issued, StaffNotificationIssued)
            else None
        )
        if recipient != member_id:
            raise NotPermittedError(
                "notification_id",
                "this notification is someone else's",
                code="notification_not_yours",
            )
        if state.read:
            return []
        event = NotificationRead(
            notification_id=command.notification_id, member_id=member_id, at=now.astimezone(UTC)
        )
        return await self.store.append(
            notification_stream(command.notification_id), state.version, [event], ctx
        )

    async def _member_version(self, member_id: UUID) -> int:
        return len(await self.store.read_stream(member_stream(member_id)))

    async def set_preferences(
        self, command: cmd.SetPreferences, ctx: CommandContext, *, member_id: UUID
    ) -> list[RecordedEvent]:
        """Set the member's channels (the address sealed under their key)."""
        email = (
            await self.vault.seal(member_id, {"email": command.email}) if command.email else None
        )
        event = PreferencesSet(
            member_id=member_id, email=email, digests=command.digests, frequency=command.frequency
        )
        version = await self._member_version(member_id)
        return await self.store.append(member_stream(member_id), version, [event], ctx)

    async def set_staff_preferences(
        self, command: cmd.SetStaffPreferences, ctx: CommandContext, *, account_id: UUID
    ) -> list[RecordedEvent]:
        """Set a staff account's email (sealed under its key) and the units it follows."""
        email = (
            await self.vault.seal(account_id, {"email": command.email}) if command.email else None
        )
        event = StaffPreferencesSet(
            account_id=account_id, email=email, units=sorted(set(command.units), key=str)
        )
        stream = f"staff-{account_id}"
        version = len(await self.store.read_stream(stream))
        return await self.store.append(stream, version, [event], ctx)

    def feed_token(self, feed_id: UUID) -> str:
        """The secret token of a calendar URL: keyed by the installation's secret, so only
        this service can make it, and the same for a retried request (same feed id)."""
        mac = hmac.new(self.feed_secret, b"calendar:" + feed_id.bytes, hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")

    @staticmethod
    def token_digest(token: str) -> str:
        """The digest a calendar URL's token is kept and found by."""
        return hashlib.sha256(token.encode()).hexdigest()

    async def issue_feed(
        self, command: cmd.IssueCalendarFeed, ctx: CommandContext, *, member_id: UUID
    ) -> list[RecordedEvent]:
        """Record a new calendar URL (only its token's digest; the route shows the URL once)."""
        assert command.feed_id is not None  # filled in by the pipeline
        digest = self.token_digest(self.feed_token(command.feed_id))
        event = CalendarFeedIssued(
            member_id=member_id, feed_id=command.feed_id, token_digest=digest
        )
        version = await self._member_version(member_id)
        return await self.store.append(member_stream(member_id), version, [event], ctx)

    async def revoke_feed(
        self,
        command: cmd.RevokeCalendarFeed,
        ctx: CommandContext,
        *,
        member_id: UUID,
        live: list[UUID],
    ) -> list[RecordedEvent]:
        """Revoke one of the member's live calendar URLs."""
        if command.feed_id not in live:
            raise NotFoundError(
                "feed_id", "no such calendar feed of yours", code="calendar_feed_not_found"
            )
        event = CalendarFeedRevoked(member_id=member_id, feed_id=command.feed_id)
        version = await self._member_version(member_id)
        return await self.store.append(member_stream(member_id), version, [event], ctx)

    async def set_webhook(
        self, command: cmd.SetUnitWebhook, ctx: CommandContext, *, unit_id: UUID
    ) -> list[RecordedEvent]:
        """Set or remove a unit's group robot (its address and secret sealed)."""
        address = None
        if command.address:
            address = await self.vault.seal(
                unit_id, {"address": command.address, "secret": command.secret}
            )
        event = UnitWebhookSet(unit_id=unit_id, format=command.format, address=address)
        stream = f"unit-{unit_id}"
        version = len(await self.store.read_stream(stream))
        return await self.store.append(stream, version, [event], ctx)

    async def urge(
        self, command: cmd.Urge, ctx: CommandContext, *, today: date
    ) -> list[RecordedEvent]:
        """Record a 督办 and issue its notification, in one append."""
        assert command.urge_id is not None  # filled in by the pipeline
        assert self.urge_content is not None, "wired by the composition root"
        content, channels = await self.urge_content(command.member_id, command.unit_id)
        urged = MemberUrged(
            urge_id=command.urge_id, member_id=command.member_id, unit_id=command.unit_id
        )
        subject = str(command.urge_id)
        notice: DomainEvent
        recipient = command.member_id or command.unit_id
        assert recipient is not None  # the command names one
        nid = notification_id(recipient, "urge", subject, "", today)
        if command.member_id is not None:
            notice = NotificationIssued(
                notification_id=nid,
                member_id=recipient,
                kind="urge",
                subject=subject,
                period="",
                due_on=today,
                essential=True,
                channels=channels,
                body=await self.vault.seal(recipient, content),
            )
        else:
            notice = UnitNotificationIssued(
                notification_id=nid,
                unit_id=recipient,
                kind="urge",
                subject=subject,
                period="",
                due_on=today,
                channels=channels,
                body=await self.vault.seal(recipient, content),
            )
        return await self.store.append_many(
            [
                AppendRequest(f"urge-{command.urge_id}", NO_STREAM, [urged]),
                AppendRequest(notification_stream(nid), NO_STREAM, [notice]),
            ],
            ctx,
        )


def routes(handlers: NotifyHandlers) -> dict[type[BaseModel], Route]:
    """Which handler runs each member command (the pipeline's table)."""
    return {
        cmd.MarkRead: route(handlers.mark_read),
        cmd.SetPreferences: route(handlers.set_preferences),
        cmd.SetStaffPreferences: route(handlers.set_staff_preferences),
        cmd.IssueCalendarFeed: route(handlers.issue_feed, "feed_id"),
        cmd.RevokeCalendarFeed: route(handlers.revoke_feed),
        cmd.SetUnitWebhook: route(handlers.set_webhook),
        cmd.Urge: route(handlers.urge, "urge_id"),
    }
