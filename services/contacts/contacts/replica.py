"""The contacts service's replica of the roster: links with their active periods.

Fed from ``sanlian.roster.events`` (or the roster's local store in the embedded default). It
is what a contact is checked against; the contacts service never asks the roster service.
It also keeps the revoked tokens (:mod:`access.revocations`) the guard refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from access.revocations import RevokedTokens
from contracts.roster import MemberAssigned, MemberForgotten, MemberUnassigned
from eventspine.crypto import PersonalDataVault
from eventspine.projection import Delivered, Tx


@dataclass(frozen=True)
class Link:
    """One link period between an upper and a lower member."""

    link_id: UUID
    upper_member_id: UUID
    lower_member_id: UUID
    assigned_on: date
    unassigned_on: date | None

    def active_on(self, day: date) -> bool:
        """Whether a contact on ``day`` belongs to this link (the end day is the next link's)."""
        return self.assigned_on <= day and (self.unassigned_on is None or day < self.unassigned_on)


def _day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


def link_of(row: Any) -> Link:
    """A :class:`Link` from a ``replica_links`` row (link_id, upper, lower, from, to)."""
    assigned = _day(row[3])
    assert assigned is not None
    return Link(UUID(str(row[0])), UUID(str(row[1])), UUID(str(row[2])), assigned, _day(row[4]))


class RosterReplica:
    """Projection of roster events into ``<prefix>replica_links`` and
    ``<prefix>revoked_tokens``."""

    name = "contacts.roster-replica"
    services = ("roster",)

    def __init__(self, vault: PersonalDataVault, prefix: str = "") -> None:
        self.vault = vault
        self.p = prefix
        self.revoked_tokens = RevokedTokens(prefix)

    async def setup(self, tx: Tx) -> None:
        """Create the tables."""
        await self.revoked_tokens.setup(tx)
        await tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.p}replica_links (link_id TEXT PRIMARY KEY, "
            "upper_member_id TEXT NOT NULL, lower_member_id TEXT NOT NULL, "
            "assigned_on TEXT NOT NULL, unassigned_on TEXT)"
        )
        await tx.execute(
            f"CREATE INDEX IF NOT EXISTS {self.p.replace('.', '_')}replica_links_pair "
            f"ON {self.p}replica_links (upper_member_id, lower_member_id)"
        )

    async def reset(self, tx: Tx) -> None:
        """Empty the tables."""
        await tx.execute(f"DELETE FROM {self.p}replica_links")
        await self.revoked_tokens.reset(tx)

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        """Track links and revoked tokens; forget a forgotten member's notes."""
        await self.revoked_tokens.apply(tx, delivered)
        match delivered.event:
            case MemberAssigned() as e:
                # A link is named by the id of the event that made it (contacts carry it).
                await tx.execute(
                    f"INSERT INTO {self.p}replica_links (link_id, upper_member_id, "
                    "lower_member_id, assigned_on) VALUES ($1, $2, $3, $4) "
                    "ON CONFLICT (link_id) DO NOTHING",
                    str(delivered.id),
                    str(e.upper_member_id),
                    str(e.member_id),
                    e.assigned_on.isoformat(),
                )
            case MemberUnassigned() as e:
                await tx.execute(
                    f"UPDATE {self.p}replica_links SET unassigned_on = $3 "
                    "WHERE upper_member_id = $1 AND lower_member_id = $2 AND unassigned_on IS NULL",
                    str(e.upper_member_id),
                    str(e.member_id),
                    e.unassigned_on.isoformat(),
                )
            case MemberForgotten() as e:
                # Notes are sealed with the lower member's key: destroying it makes them
                # unreadable in every stored event; the read model's clear copy goes with it.
                await self.vault.forget(e.member_id)
                await tx.execute(
                    f"UPDATE {self.p}view_contacts SET note = NULL WHERE lower_member_id = $1",
                    str(e.member_id),
                )

    async def links_between(self, reader: Tx, upper: UUID, lower: UUID) -> list[Link]:
        """Every link period of the pair, newest first."""
        rows = await reader.fetch(
            f"SELECT link_id, upper_member_id, lower_member_id, assigned_on, unassigned_on "
            f"FROM {self.p}replica_links WHERE upper_member_id = $1 AND lower_member_id = $2 "
            "ORDER BY assigned_on DESC",
            str(upper),
            str(lower),
        )
        return [link_of(row) for row in rows]
