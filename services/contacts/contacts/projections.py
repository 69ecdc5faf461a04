"""The contacts read model: every contact with its current (corrected) values, and the history
of each (made, each correction, the retraction) for the contact card."""

from __future__ import annotations

import json
from uuid import UUID

from contacts.events import ContactCorrected, ContactMade, ContactRetracted
from eventspine.crypto import PersonalDataVault
from eventspine.envelope import format_time
from eventspine.projection import Delivered, Tx, as_text


class ContactsProjection:
    """Projection of the contacts service's own events into ``<prefix>view_contacts`` (current
    values) and ``<prefix>view_contact_history`` (one row per event about a contact).

    The history keeps each event's date and method and the note as sealed in the event (never
    in clear, so forgetting the lower member needs nothing here): a correction's "before" is
    the row before it, and whether it changed the note is decided when it is applied.
    """

    # Named anew whenever its tables change: every feed replays the whole store into a
    # projection it holds no position for, so the history is complete on existing data too.
    name = "contacts.view-2"
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
        await tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.p}view_contact_history (event_id TEXT PRIMARY KEY, "
            "contact_id TEXT NOT NULL, position BIGINT NOT NULL, kind TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL, contacted_on TEXT, method TEXT, sealed_note TEXT, "
            "note_changed INTEGER, reason TEXT)"
        )
        await tx.execute(
            f"CREATE INDEX IF NOT EXISTS {self.p.replace('.', '_')}view_contact_history_contact "
            f"ON {self.p}view_contact_history (contact_id, position)"
        )

    async def reset(self, tx: Tx) -> None:
        """Empty the tables."""
        await tx.execute(f"DELETE FROM {self.p}view_contacts")
        await tx.execute(f"DELETE FROM {self.p}view_contact_history")

    async def _note(self, lower_member_id: object, sealed: str | None) -> str | None:
        if sealed is None:
            return None
        data = await self.vault.unseal(UUID(str(lower_member_id)), sealed)
        return None if data is None else data.get("note")

    async def _note_changed(
        self, tx: Tx, contact_id: str, position: int, lower_member_id: object, sealed: str | None
    ) -> bool | None:
        """Whether a correction's note differs from the one before it (``None``: unreadable)."""
        before: str | None = await tx.fetchval(
            f"SELECT sealed_note FROM {self.p}view_contact_history WHERE contact_id = $1 "
            "AND position < $2 AND kind <> 'retracted' ORDER BY position DESC LIMIT 1",
            contact_id,
            position,
        )
        if before is None or sealed is None or before == sealed:
            return before != sealed
        old = await self._note(lower_member_id, before)
        new = await self._note(lower_member_id, sealed)
        return None if old is None or new is None else old != new

    def _history_sql(self) -> str:
        return (
            f"INSERT INTO {self.p}view_contact_history (event_id, contact_id, position, kind, "
            "recorded_at, contacted_on, method, sealed_note, note_changed, reason) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (event_id) DO NOTHING"
        )

    def _contact_sql(self) -> str:
        return (
            f"INSERT INTO {self.p}view_contacts (contact_id, link_id, upper_member_id, "
            "lower_member_id, contacted_on, method, initiated_by, topics, note, "
            "meeting_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
            "ON CONFLICT (contact_id) DO NOTHING"
        )

    @staticmethod
    def _history_args(
        delivered: Delivered, contact_id: str, kind: str, *values: object
    ) -> tuple[object, ...]:
        return (
            str(delivered.id),
            contact_id,
            delivered.position,
            kind,
            format_time(delivered.time),
            *values,
        )

    async def _history(
        self, tx: Tx, delivered: Delivered, contact_id: str, kind: str, *values: object
    ) -> None:
        await tx.execute(
            self._history_sql(), *self._history_args(delivered, contact_id, kind, *values)
        )

    async def _made(self, delivered: Delivered, e: ContactMade) -> tuple[tuple[object, ...], ...]:
        """A made contact's row and its history row."""
        contact = (
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
        history = self._history_args(
            delivered,
            str(e.contact_id),
            "made",
            e.contacted_on.isoformat(),
            e.method,
            e.note,
            None,
            None,
        )
        return contact, history

    async def apply_many(self, tx: Tx, events: list[Delivered]) -> None:
        """Apply events in order, each run of made contacts in two pipelined statements (a
        catch-up after a burst of ``POST /contacts`` is mostly such a run); the same rows as
        :meth:`apply` one by one."""
        made: list[tuple[tuple[object, ...], ...]] = []

        async def flush() -> None:
            if made:
                await tx.executemany(self._contact_sql(), [contact for contact, _ in made])
                await tx.executemany(self._history_sql(), [history for _, history in made])
                made.clear()

        for delivered in events:
            if isinstance(delivered.event, ContactMade):
                made.append(await self._made(delivered, delivered.event))
                continue
            await flush()
            await self.apply(tx, delivered)
        await flush()

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        """Apply one contacts event."""
        p = self.p
        match delivered.event:
            case ContactMade() as e:
                contact, history = await self._made(delivered, e)
                await tx.execute(self._contact_sql(), *contact)
                await tx.execute(self._history_sql(), *history)
            case ContactCorrected() as e:
                lower = await tx.fetchval(
                    f"SELECT lower_member_id FROM {p}view_contacts WHERE contact_id = $1",
                    str(e.contact_id),
                )
                changed = await self._note_changed(
                    tx, str(e.contact_id), delivered.position, lower, e.note
                )
                await self._history(
                    tx,
                    delivered,
                    str(e.contact_id),
                    "corrected",
                    e.contacted_on.isoformat(),
                    e.method,
                    e.note,
                    None if changed is None else int(changed),
                    e.reason,
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
                await self._history(
                    tx, delivered, str(e.contact_id), "retracted", None, None, None, None, e.reason
                )
