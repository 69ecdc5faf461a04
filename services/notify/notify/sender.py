"""The outbox's sender: delivers issued notifications on their channels, exactly once.

For each pending delivery whose time has come, outside the quiet hours: record the intent
(``DeliveryAttempted``, appended at the stream version read, so of two instances only one
sends), send, then record the outcome (``NotificationDelivered``, or ``DeliveryFailed`` with
the time of the next attempt: backoff doubling from ``retry_base_seconds`` up to
``retry_max_seconds``, permanent after ``max_attempts`` or a permanent refusal). An email
records one more step between: ``DeliveryHandedOver``, once the server took the envelope and
just before the data goes. A crash leaves an attempt without outcome; once its lease has
passed it is sent again under the same Message-ID, unless its data was handed over and
``in_doubt`` is ``hold`` (then it is recorded as failed for good, for staff). Nothing is lost
while a channel is down: the delivery stays pending.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from uuid import UUID

import structlog

from eventspine.crypto import PersonalDataVault
from eventspine.store.base import CommandContext
from notify import webhook
from notify.domain import QuietHours, retry_delay
from notify.events import DeliveryChannel
from notify.handlers import SCHEDULER_ACTOR, Content, NotifyHandlers
from notify.mail import Mailer, SendError, compose, message_id
from notify.names import NamesUnavailable, RosterNames, named, rendered
from notify.queries import NotifyQueries
from notify.settings import NotifySettings

log = structlog.get_logger(__name__)


class Sender:
    """Sends the deliveries that are due: emails to members, messages to units' robots."""

    def __init__(
        self,
        handlers: NotifyHandlers,
        queries: NotifyQueries,
        vault: PersonalDataVault,
        mailer: Mailer,
        settings: NotifySettings,
        quiet: QuietHours,
        catch_up: Callable[[], Awaitable[int]],
        names: RosterNames,
    ) -> None:
        self.handlers = handlers
        self.queries = queries
        self.vault = vault
        self.mailer = mailer
        self.settings = settings
        self.quiet = quiet
        self.catch_up = catch_up
        self.names = names
        self.lease = timedelta(seconds=settings.smtp_timeout_seconds * 2 + 5)

    async def send_due(self, now: datetime) -> int:
        """Send every email and group message due at ``now``; return how many were
        delivered."""
        if self.quiet.quiet(now):
            return 0
        delivered = 0
        ctx = CommandContext(actor=SCHEDULER_ACTOR, correlation_id=uuid.uuid4())
        channels: list[DeliveryChannel] = ["webhook"]
        if self.mailer.configured:
            channels.insert(0, "email")
        for channel in channels:
            for row in await self.queries.due_deliveries(now, channel):
                if await self._one(UUID(row[0]), UUID(row[1]), channel, now, ctx):
                    delivered += 1
        if delivered:
            await self.catch_up()
        return delivered

    async def _send(
        self,
        nid: UUID,
        recipient: UUID,
        channel: DeliveryChannel,
        body: Content,
        now: datetime,
        handed_over: Callable[[], Awaitable[None]],
    ) -> None:
        """One send on ``channel``, the names filled in as the roster has them now (a
        member forgotten since the notification was issued is no longer named);
        :class:`SendError` when it failed."""
        try:
            names = await self.names.of(named(body))
        except NamesUnavailable as exc:
            raise SendError(f"roster names unavailable: {exc}", permanent=False) from exc
        title, text = rendered(body, names)
        if channel == "webhook":
            robot = await self.queries.webhook(recipient)
            opened = await self.vault.unseal(recipient, robot[1]) if robot else None
            if robot is None or opened is None or not opened.get("address"):
                raise SendError("no webhook for the unit", permanent=True)
            await webhook.post(
                robot[0],
                opened["address"] or "",
                opened.get("secret"),
                title,
                text,
                self.settings.smtp_timeout_seconds,
            )
            return
        sealed_email, _ = await self.queries.preferences(recipient)
        address = await self.vault.unseal(recipient, sealed_email) if sealed_email else None
        to = address.get("email") if address else None
        if not to:
            raise SendError("no email address", permanent=True)
        await self.mailer.send(
            compose(nid, self.settings.mail_from, to, title, text, now), handed_over
        )

    async def _one(
        self,
        nid: UUID,
        recipient: UUID,
        channel: DeliveryChannel,
        now: datetime,
        ctx: CommandContext,
    ) -> bool:
        begun = await self.handlers.begin_attempt(
            nid, channel, now, self.lease, ctx, self.settings.in_doubt
        )
        if begun is None:
            return False
        state, attempt = begun
        assert state.issued is not None
        body = await self.vault.unseal(recipient, state.issued.body)

        async def handed_over() -> None:
            await self.handlers.handed_over(
                nid, channel, attempt, now, state.version, message_id(nid), ctx
            )
            state.version += 1  # the outcome goes on top of it

        try:
            if body is None:
                raise SendError("recipient forgotten", permanent=True)
            await self._send(nid, recipient, channel, body, now, handed_over)
        except SendError as exc:
            s = self.settings
            final = exc.permanent or attempt >= s.max_attempts
            retry_at = (
                None
                if final
                else now + retry_delay(attempt, s.retry_base_seconds, s.retry_max_seconds)
            )
            log.warning(
                "notify.send_failed",
                notification=str(nid),
                channel=channel,
                attempt=attempt,
                reason=exc.reason,
                permanent=final,
            )
            await self.handlers.failed(
                nid,
                channel,
                attempt,
                now,
                state.version,
                ctx,
                reason=exc.reason,
                retry_at=retry_at,
            )
            return False
        await self.handlers.delivered(nid, channel, attempt, now, state.version, ctx)
        return True
