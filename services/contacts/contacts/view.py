"""The contacts read model: every contact with its current (corrected) values."""

from __future__ import annotations

import json
from uuid import UUID

from eventspine.crypto import PersonalDataVault
from eventspine.envelope import RecordedEvent
from eventspine.projection import Tx


class ContactsView:
    """Projection of the contacts service's own events into ``<prefix>view_contacts``."""

    name = "contacts.view"
    services = ("contacts",)

    def __init__(self, vault: PersonalDataVault, prefix: str = "") -> None:
        self.vault = vault
        self.p = prefix

    async def setup(self, tx: Tx) -> None:
        """Create the table."""
        await tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.p}view_contacts (contact_id TEXT PRIMARY KEY, "
            "link_id TEXT NOT NULL, upper_member_id TEXT NOT NULL, "
            "lower_member_id TEXT NOT NULL, "
            "contacted_on TEXT NOT NULL, method TEXT NOT NULL, initiated_by TEXT NOT NULL, "
            "topics TEXT NOT NULL, note TEXT, meeting_id TEXT, "
            "retracted INTEGER NOT NULL DEFAULT 0)"
        )
        await tx.execute(
            f"CREATE INDEX IF NOT EXISTS {self.p.replace('.', '_')}view_contacts_link "
            f"ON {self.p}view_contacts (link_id)"
        )

    async def reset(self, tx: Tx) -> None:
        """Empty the table."""
        await tx.execute(f"DELETE FROM {self.p}view_contacts")

    async def _note(self, lower_member_id: str, sealed: str | None) -> str | None:
        if sealed is None:
            return None
        data = await self.vault.unseal(UUID(lower_member_id), sealed)
        return None if data is None else data.get("note")

    async def apply(self, tx: Tx, event: RecordedEvent) -> None:
        """Apply one contacts event."""
        d, p = event.data, self.p
        if event.event_type == "ContactMade":
            await tx.execute(
                f"INSERT INTO {p}view_contacts (contact_id, link_id, upper_member_id, "
                "lower_member_id, contacted_on, method, initiated_by, topics, note, meeting_id) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                "ON CONFLICT (contact_id) DO NOTHING",
                d["contact_id"],
                d["link_id"],
                d["upper_member_id"],
                d["lower_member_id"],
                d["contacted_on"],
                d["method"],
                d["initiated_by"],
                json.dumps(d["topics"]),
                await self._note(d["lower_member_id"], d["note"]),
                d["meeting_id"],
            )
        elif event.event_type == "ContactCorrected":
            lower = await tx.fetchval(
                f"SELECT lower_member_id FROM {p}view_contacts WHERE contact_id = $1",
                d["contact_id"],
            )
            await tx.execute(
                f"UPDATE {p}view_contacts SET contacted_on = $2, method = $3, note = $4 "
                "WHERE contact_id = $1",
                d["contact_id"],
                d["contacted_on"],
                d["method"],
                await self._note(str(lower), d["note"]),
            )
        elif event.event_type == "ContactRetracted":
            await tx.execute(
                f"UPDATE {p}view_contacts SET retracted = 1 WHERE contact_id = $1", d["contact_id"]
            )
