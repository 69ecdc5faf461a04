"""The roster's replica of the contacts logged on its links: for each link, the days of its
contacts, so that a change ending the link can be refused when it would leave one on no link.

The contacts belong to the contacts service; the roster never asks it. This projection is fed
from ``sanlian.contacts.events`` (or the contacts service's local store in the embedded
default): a ``ContactMade`` adds a contact on the link it names (``link_id``, the id of the
roster's ``MemberAssigned`` event that started the link; a group meeting is one per member), a
``ContactCorrected`` moves its day, a ``ContactRetracted`` removes it.

**Eventual consistency.** A contact reaches this replica a moment after the contacts service
stored it (its relay publishes it, this feed applies it). The handlers let the feed catch up,
for a bounded time, before deciding a change that ends links, so a contact logged just before
counts. One the feed has not delivered within that time (the contacts relay or Kafka lagging
or down), or one logged while the change is being decided, is not seen: the change is accepted
and that contact falls outside its link, where it stops counting until its date is corrected
into the link's days. A correction to a later day is in the same window; a retraction, or a
correction to an earlier day, not replicated yet can only refuse a change that a retry
accepts.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from uuid import UUID

from contracts.contacts import ContactCorrected, ContactMade, ContactRetracted
from eventspine.projection import Delivered, Tx


class ContactDates:
    """Projection of the contacts service's events into ``<prefix>contact_dates``: one row per
    contact that counts (logged, not retracted), its link and its day as last corrected."""

    name = "roster.contact-dates"
    services = ("contacts",)

    def __init__(self, prefix: str = "") -> None:
        self.p = prefix

    async def setup(self, tx: Tx) -> None:
        """Create the table."""
        await tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.p}contact_dates (contact_id TEXT PRIMARY KEY, "
            "link_id TEXT NOT NULL, contacted_on TEXT NOT NULL)"
        )
        await tx.execute(
            f"CREATE INDEX IF NOT EXISTS {self.p.replace('.', '_')}contact_dates_link "
            f"ON {self.p}contact_dates (link_id, contacted_on)"
        )

    async def reset(self, tx: Tx) -> None:
        """Empty the table."""
        await tx.execute(f"DELETE FROM {self.p}contact_dates")

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        """Add, move or remove one contact's day."""
        match delivered.event:
            case ContactMade() as e:
                await tx.execute(
                    f"INSERT INTO {self.p}contact_dates (contact_id, link_id, contacted_on) "
                    "VALUES ($1, $2, $3) ON CONFLICT (contact_id) DO NOTHING",
                    str(e.contact_id),
                    str(e.link_id),
                    e.contacted_on.isoformat(),
                )
            case ContactCorrected() as e:
                await tx.execute(
                    f"UPDATE {self.p}contact_dates SET contacted_on = $2 WHERE contact_id = $1",
                    str(e.contact_id),
                    e.contacted_on.isoformat(),
                )
            case ContactRetracted() as e:
                await tx.execute(
                    f"DELETE FROM {self.p}contact_dates WHERE contact_id = $1", str(e.contact_id)
                )

    async def latest(self, reader: Tx, link_ids: Collection[UUID]) -> dict[UUID, date]:
        """The day of the latest contact on each of ``link_ids`` that has one."""
        if not link_ids:
            return {}
        ids = [str(link_id) for link_id in link_ids]
        marks = ", ".join(f"${i}" for i in range(1, len(ids) + 1))
        # ISO days sort as the days do, on PostgreSQL and SQLite alike.
        rows = await reader.fetch(
            f"SELECT link_id, MAX(contacted_on) FROM {self.p}contact_dates "
            f"WHERE link_id IN ({marks}) GROUP BY link_id",
            *ids,
        )
        return {UUID(str(row[0])): date.fromisoformat(str(row[1])) for row in rows}
