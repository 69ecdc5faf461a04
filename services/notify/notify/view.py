"""The notify service's read model of its own events: notifications, deliveries, preferences.

``n_notifications`` is each member's 待办 list (read or unread); ``n_deliveries`` the outbox:
one row per notification and channel, ``pending`` until delivered or failed for good, with
the attempts so far and when the next may start (the sender's index); ``n_preferences`` and
``n_feeds`` a member's channels and calendar URLs (only a digest of each URL's token);
``n_webhooks`` each unit's group robot (its address sealed); ``n_staff_units`` the units whose
monthly digest each staff account takes. A notification's and a delivery's ``member_id`` is
its recipient: a member, a staff account (its preferences in ``n_preferences`` too), or for a
unit's group the unit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from eventspine.projection import Delivered, Tx
from notify.events import (
    CalendarFeedIssued,
    CalendarFeedRevoked,
    DeliveryAttempted,
    DeliveryFailed,
    NotificationDelivered,
    NotificationIssued,
    NotificationRead,
    PreferencesSet,
    StaffNotificationIssued,
    StaffPreferencesSet,
    UnitNotificationIssued,
    UnitWebhookSet,
)

TABLES = {
    "n_notifications": "notification_id TEXT PRIMARY KEY, member_id TEXT NOT NULL, "
    "kind TEXT NOT NULL, subject TEXT NOT NULL, period TEXT NOT NULL, due_on TEXT, "
    "essential INTEGER NOT NULL, body TEXT NOT NULL, issued_at TEXT NOT NULL, read_at TEXT",
    "n_deliveries": "notification_id TEXT NOT NULL, channel TEXT NOT NULL, "
    "member_id TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, "
    "next_attempt_at TEXT NOT NULL, reason TEXT, delivered_at TEXT, "
    "PRIMARY KEY (notification_id, channel)",
    "n_preferences": "member_id TEXT PRIMARY KEY, email TEXT, digests INTEGER NOT NULL, "
    "frequency TEXT NOT NULL",
    "n_webhooks": "unit_id TEXT PRIMARY KEY, format TEXT NOT NULL, address TEXT NOT NULL",
    "n_staff_units": "account_id TEXT NOT NULL, unit_id TEXT NOT NULL, "
    "PRIMARY KEY (account_id, unit_id)",
    "n_feeds": "feed_id TEXT PRIMARY KEY, member_id TEXT NOT NULL, token_digest TEXT NOT NULL, "
    "revoked INTEGER NOT NULL DEFAULT 0",
}


def utc(moment: datetime) -> str:
    """A moment as the tables hold it: ISO text in UTC, so text order is time order."""
    return moment.astimezone(UTC).isoformat()


class NotificationsView:
    """Rows of the ``<prefix>n_notifications``, ``n_deliveries``, ``n_preferences`` and
    ``n_feeds`` tables."""

    name = "notify.view"
    services = ("notify",)

    def __init__(self, prefix: str = "") -> None:
        self.p = prefix

    async def setup(self, tx: Tx) -> None:
        """Create the tables."""
        for table, columns in TABLES.items():
            await tx.execute(f"CREATE TABLE IF NOT EXISTS {self.p}{table} ({columns})")
        await tx.execute(
            f"CREATE INDEX IF NOT EXISTS n_notifications_member "
            f"ON {self.p}n_notifications (member_id, issued_at)"
        )
        await tx.execute(
            f"CREATE INDEX IF NOT EXISTS n_deliveries_due "
            f"ON {self.p}n_deliveries (status, next_attempt_at)"
        )

    async def reset(self, tx: Tx) -> None:
        """Empty the tables."""
        for table in TABLES:
            await tx.execute(f"DELETE FROM {self.p}{table}")

    async def _delivery(
        self, tx: Tx, sets: str, notification_id: object, channel: str, *args: object
    ) -> None:
        await tx.execute(
            f"UPDATE {self.p}n_deliveries SET {sets} WHERE notification_id = $1 AND channel = $2",
            str(notification_id),
            channel,
            *args,
        )

    async def _notification(
        self,
        tx: Tx,
        e: NotificationIssued | StaffNotificationIssued,
        recipient: UUID,
        essential: bool,
        d: Delivered,
    ) -> None:
        await tx.execute(
            f"INSERT INTO {self.p}n_notifications VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
            "NULL) ON CONFLICT (notification_id) DO NOTHING",
            str(e.notification_id),
            str(recipient),
            e.kind,
            e.subject,
            e.period,
            e.due_on.isoformat() if e.due_on else None,
            int(essential),
            e.body,
            utc(d.time),
        )

    async def _deliveries(
        self,
        tx: Tx,
        e: NotificationIssued | StaffNotificationIssued | UnitNotificationIssued,
        recipient: UUID,
        d: Delivered,
    ) -> None:
        for channel in e.channels:
            await tx.execute(
                f"INSERT INTO {self.p}n_deliveries VALUES ($1, $2, $3, 'pending', 0, $4, "
                "NULL, NULL) ON CONFLICT (notification_id, channel) DO NOTHING",
                str(e.notification_id),
                channel,
                str(recipient),
                utc(d.time),
            )

    async def apply(self, tx: Tx, d: Delivered) -> None:
        """Apply one of the service's own events."""
        p = self.p
        match d.event:
            case NotificationIssued() as e:
                await self._notification(tx, e, e.member_id, e.essential, d)
                await self._deliveries(tx, e, e.member_id, d)
            case StaffNotificationIssued() as e:
                await self._notification(tx, e, e.account_id, False, d)
                await self._deliveries(tx, e, e.account_id, d)
            case StaffPreferencesSet() as e:
                await tx.execute(
                    f"INSERT INTO {p}n_preferences VALUES ($1, $2, 1, 'federation') ON CONFLICT "
                    "(member_id) DO UPDATE SET email = excluded.email",
                    str(e.account_id),
                    e.email,
                )
                await tx.execute(
                    f"DELETE FROM {p}n_staff_units WHERE account_id = $1", str(e.account_id)
                )
                for unit_id in e.units:
                    await tx.execute(
                        f"INSERT INTO {p}n_staff_units VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        str(e.account_id),
                        str(unit_id),
                    )
            case UnitNotificationIssued() as e:
                await self._deliveries(tx, e, e.unit_id, d)  # the recipient: the unit's group
            case UnitWebhookSet() as e:
                if e.format is None or e.address is None:
                    await tx.execute(
                        f"DELETE FROM {p}n_webhooks WHERE unit_id = $1", str(e.unit_id)
                    )
                else:
                    await tx.execute(
                        f"INSERT INTO {p}n_webhooks VALUES ($1, $2, $3) ON CONFLICT (unit_id) "
                        "DO UPDATE SET format = excluded.format, address = excluded.address",
                        str(e.unit_id),
                        e.format,
                        e.address,
                    )
            case DeliveryAttempted() as e:
                await self._delivery(tx, "attempts = $3", e.notification_id, e.channel, e.attempt)
            case NotificationDelivered() as e:
                await self._delivery(
                    tx,
                    "status = 'delivered', delivered_at = $3",
                    e.notification_id,
                    e.channel,
                    utc(e.at),
                )
            case DeliveryFailed() as e:
                status = "failed" if e.permanent else "pending"
                retry = utc(e.retry_at or e.at)
                await self._delivery(
                    tx,
                    "status = $3, reason = $4, next_attempt_at = $5",
                    e.notification_id,
                    e.channel,
                    status,
                    e.reason,
                    retry,
                )
            case NotificationRead() as e:
                await tx.execute(
                    f"UPDATE {p}n_notifications SET read_at = $2 WHERE notification_id = $1",
                    str(e.notification_id),
                    utc(e.at),
                )
            case PreferencesSet() as e:
                await tx.execute(
                    f"INSERT INTO {p}n_preferences VALUES ($1, $2, $3, $4) ON CONFLICT "
                    "(member_id) DO UPDATE SET email = excluded.email, "
                    "digests = excluded.digests, frequency = excluded.frequency",
                    str(e.member_id),
                    e.email,
                    int(e.digests),
                    e.frequency,
                )
            case CalendarFeedIssued() as e:
                await tx.execute(
                    f"INSERT INTO {p}n_feeds VALUES ($1, $2, $3, 0) ON CONFLICT (feed_id) "
                    "DO NOTHING",
                    str(e.feed_id),
                    str(e.member_id),
                    e.token_digest,
                )
            case CalendarFeedRevoked() as e:
                await tx.execute(
                    f"UPDATE {p}n_feeds SET revoked = 1 WHERE feed_id = $1", str(e.feed_id)
                )
