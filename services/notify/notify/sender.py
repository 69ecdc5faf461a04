"""The outbox's sender: delivers issued notifications on their channels, exactly once.

For each pending delivery whose time has come, outside the quiet hours: record the intent
(``DeliveryAttempted``, appended at the stream version read, so of two instances only one
sends), send, then record the outcome (``NotificationDelivered``, or ``DeliveryFailed`` with
the time of the next attempt: backoff doubling from ``retry_base_seconds`` up to
``retry_max_seconds``, permanent after ``max_attempts`` or a permanent refusal). A crash after
the intent leaves an attempt without outcome: once its lease has passed it is sent again under
the same Message-ID. Nothing is lost while a channel is down: the delivery stays pending.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from uuid import UUID

import structlog

from eventspine.crypto import PersonalDataVault
from eventspine.store.base import CommandContext
from notify.domain import QuietHours, retry_delay
from notify.handlers import SCHEDULER_ACTOR, NotifyHandlers
from notify.mail import Mailer, SendError, compose
from notify.queries import NotifyQueries
from notify.settings import NotifySettings

log = structlog.get_logger(__name__)


class Sender:
    """Sends the email deliveries that are due (the webhook channel joins it per unit)."""

    def __init__(
        self,
        handlers: NotifyHandlers,
        queries: NotifyQueries,
        vault: PersonalDataVault,
        mailer: Mailer,
        settings: NotifySettings,
        quiet: QuietHours,
        catch_up: Callable[[], Awaitable[int]],
    ) -> None:
        self.handlers = handlers
        self.queries = queries
        self.vault = vault
        self.mailer = mailer
        self.settings = settings
        self.quiet = quiet
        self.catch_up = catch_up
        self.lease = timedelta(seconds=settings.smtp_timeout_seconds * 2 + 5)

    async def send_due(self, now: datetime) -> int:
        """Send every email due at ``now``; return how many were delivered."""
        if self.quiet.quiet(now) or not self.mailer.configured:
            return 0
        delivered = 0
        ctx = CommandContext(actor=SCHEDULER_ACTOR, correlation_id=uuid.uuid4())
        for row in await self.queries.due_deliveries(now, "email"):
            if await self._one(UUID(row[0]), UUID(row[1]), now, ctx):
                delivered += 1
        if delivered:
            await self.catch_up()
        return delivered

    async def _one(self, nid: UUID, member_id: UUID, now: datetime, ctx: CommandContext) -> bool:
        begun = await self.handlers.begin_attempt(nid, "email", now, self.lease, ctx)
        if begun is None:
            return False
        state, attempt = begun
        assert state.issued is not None
        body = await self.vault.unseal(member_id, state.issued.body)
        sealed_email, _ = await self.queries.preferences(member_id)
        address = await self.vault.unseal(member_id, sealed_email) if sealed_email else None
        to = address.get("email") if address else None
        if body is None or not to:
            reason = "member forgotten" if body is None else "no email address"
            await self.handlers.failed(
                nid, "email", attempt, now, state.version, ctx, reason=reason, retry_at=None
            )
            return False
        message = compose(
            nid, self.settings.mail_from, to, body.get("title") or "", body.get("text") or "", now
        )
        try:
            await self.mailer.send(message)
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
                attempt=attempt,
                reason=exc.reason,
                permanent=final,
            )
            await self.handlers.failed(
                nid,
                "email",
                attempt,
                now,
                state.version,
                ctx,
                reason=exc.reason,
                retry_at=retry_at,
            )
            return False
        await self.handlers.delivered(nid, "email", attempt, now, state.version, ctx)
        return True
