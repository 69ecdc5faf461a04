"""The contacts read model: every contact with its current (corrected) values."""

from __future__ import annotations

import json
from uuid import UUID

from contacts.events import ContactCorrected, ContactMade, ContactRetracted
from eventspine.crypto import PersonalDataVault
from eventspine.projection import Delivered, Tx, as_text


class ContactsProjection:
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

    async def _note(self, lower_member_id: object, sealed: str | None) -> str | None:
        if sealed is None:
            return None
        data = await self.vault.unseal(UUID(str(lower_member_id)), sealed)
        return None if data is None else data.get("note")

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        """Apply one contacts event."""
        p = self.p
        match delivered.event:
            case ContactMade() as e:
                await tx.execute(
                    f"INSERT INTO {p}view_contacts (contact_id, link_id, upper_member_id, "
                    "lower_member_id, contacted_on, method, initiated_by, topics, note, "
                    "meeting_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                    "ON CONFLICT (contact_id) DO NOTHING",
                    str(e.contact_id),
                    str(e.link_id),
                    str(e.upper_member_id),
                    str(e.lower_member_id),
                    e.contacted_on.isoformat(),
                    e.method,
                    e.initiated_by,
                    json.dumps(e.topics),
                    await self._note(e.lower_member_id, e.note),
                    as_text(e.meeting_id),
                )
            case ContactCorrected() as e:
                lower = await tx.fetchval(
                    f"SELECT lower_member_id FROM {p}view_contacts WHERE contact_id = $1",
                    str(e.contact_id),
                )
                await tx.execute(
                    f"UPDATE {p}view_contacts SET contacted_on = $2, method = $3, note = $4 "
                    "WHERE contact_id = $1",
                    str(e.contact_id),
                    e.contacted_on.isoformat(),
                    e.method,
                    await self._note(lower, e.note),
                )
            case ContactRetracted() as e:
                await tx.execute(
                    f"UPDATE {p}view_contacts SET retracted = 1 WHERE contact_id = $1",
                    str(e.contact_id),
                )
