"""The roster's read model: members with their personal data, units, and link history.

Built from the roster's own events (``PostgresFollower`` in the full topology, the in-process
bus in the embedded default). Personal data is unsealed here, for the roster's own queries,
and wiped when a member is forgotten: after ``MemberForgotten`` no row holds it.
"""

from __future__ import annotations

from uuid import UUID

from eventspine.crypto import PersonalDataVault
from eventspine.projection import Delivered, Tx, as_text
from roster.events import (
    MemberAssigned,
    MemberDeparted,
    MemberDetailsChanged,
    MemberForgotten,
    MemberMoved,
    MemberRegistered,
    MemberTierChanged,
    MemberUnassigned,
    SpanPolicyChanged,
    UnitClosed,
    UnitRegistered,
    UnitRenamed,
)


class RosterProjection:
    """Projection of the roster's events into query tables named ``<prefix>view_*``."""

    name = "roster.view"
    services = ("roster",)

    def __init__(self, vault: PersonalDataVault, prefix: str = "") -> None:
        self.vault = vault
        self.p = prefix

    async def setup(self, tx: Tx) -> None:
        """Create the tables."""
        p = self.p
        for statement in (
            f"CREATE TABLE IF NOT EXISTS {p}view_units (unit_id TEXT PRIMARY KEY, "
            "name TEXT NOT NULL, kind TEXT NOT NULL, parent_unit_id TEXT, "
            "closed INTEGER NOT NULL DEFAULT 0)",
            # Codes came after the units' table: a table of their own needs no migration.
            f"CREATE TABLE IF NOT EXISTS {p}view_unit_codes (unit_id TEXT PRIMARY KEY, "
            "code TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {p}view_members (member_id TEXT PRIMARY KEY, "
            "unit_id TEXT NOT NULL, tier TEXT NOT NULL, status TEXT NOT NULL, "
            "upper_member_id TEXT, name TEXT, phone TEXT, wechat_id TEXT, external_number TEXT, "
            "registered_on TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {self.p.replace('.', '_')}view_members_upper "
            f"ON {p}view_members (upper_member_id)",
            f"CREATE TABLE IF NOT EXISTS {p}view_links (lower_member_id TEXT NOT NULL, "
            "upper_member_id TEXT NOT NULL, assigned_on TEXT NOT NULL, unassigned_on TEXT, "
            "unassign_reason TEXT, span_override_reason TEXT, position BIGINT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {p}view_policy (id INTEGER PRIMARY KEY, "
            "leader INTEGER NOT NULL, committee INTEGER NOT NULL, representative INTEGER NOT NULL)",
        ):
            await tx.execute(statement)

    async def reset(self, tx: Tx) -> None:
        """Empty the tables."""
        for table in ("view_units", "view_unit_codes", "view_members", "view_links", "view_policy"):
            await tx.execute(f"DELETE FROM {self.p}{table}")

    async def _personal(self, tx: Tx, member_id: UUID, sealed: str) -> None:
        data = await self.vault.unseal(member_id, sealed)
        data = data or {}
        await tx.execute(
            f"UPDATE {self.p}view_members SET name = $2, phone = $3, wechat_id = $4, "
            "external_number = $5 WHERE member_id = $1",
            str(member_id),
            data.get("name"),
            data.get("phone"),
            data.get("wechat_id"),
            data.get("external_number"),
        )

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        """Apply one roster event."""
        p = self.p
        match delivered.event:
            case UnitRegistered() as e:
                await tx.execute(
                    f"INSERT INTO {p}view_units (unit_id, name, kind, parent_unit_id) "
                    "VALUES ($1, $2, $3, $4) ON CONFLICT (unit_id) DO NOTHING",
                    str(e.unit_id),
                    e.name,
                    e.kind,
                    as_text(e.parent_unit_id),
                )
                if e.code is not None:
                    await tx.execute(
                        f"INSERT INTO {p}view_unit_codes (unit_id, code) VALUES ($1, $2) "
                        "ON CONFLICT (unit_id) DO NOTHING",
                        str(e.unit_id),
                        e.code,
                    )
            case UnitRenamed() as e:
                await tx.execute(
                    f"UPDATE {p}view_units SET name = $2 WHERE unit_id = $1",
                    str(e.unit_id),
                    e.name,
                )
            case UnitClosed() as e:
                await tx.execute(
                    f"UPDATE {p}view_units SET closed = 1 WHERE unit_id = $1", str(e.unit_id)
                )
            case MemberRegistered() as e:
                await tx.execute(
                    f"INSERT INTO {p}view_members (member_id, unit_id, tier, status, "
                    "registered_on) VALUES ($1, $2, $3, 'active', $4) "
                    "ON CONFLICT (member_id) DO NOTHING",
                    str(e.member_id),
                    str(e.unit_id),
                    e.tier,
                    e.registered_on.isoformat(),
                )
                await self._personal(tx, e.member_id, e.personal_data)
            case MemberDetailsChanged() as e:
                await self._personal(tx, e.member_id, e.personal_data)
            case MemberTierChanged() as e:
                await tx.execute(
                    f"UPDATE {p}view_members SET tier = $2 WHERE member_id = $1",
                    str(e.member_id),
                    e.to_tier,
                )
            case MemberMoved() as e:
                await tx.execute(
                    f"UPDATE {p}view_members SET unit_id = $2 WHERE member_id = $1",
                    str(e.member_id),
                    str(e.to_unit_id),
                )
            case MemberDeparted() as e:
                await tx.execute(
                    f"UPDATE {p}view_members SET status = 'departed' WHERE member_id = $1",
                    str(e.member_id),
                )
            case MemberForgotten() as e:
                await tx.execute(
                    f"UPDATE {p}view_members SET status = 'forgotten', name = NULL, phone = NULL, "
                    "wechat_id = NULL, external_number = NULL WHERE member_id = $1",
                    str(e.member_id),
                )
            case MemberAssigned() as e:
                await tx.execute(
                    f"UPDATE {p}view_members SET upper_member_id = $2 WHERE member_id = $1",
                    str(e.member_id),
                    str(e.upper_member_id),
                )
                await tx.execute(
                    f"INSERT INTO {p}view_links (lower_member_id, upper_member_id, assigned_on, "
                    "span_override_reason, position) VALUES ($1, $2, $3, $4, $5)",
                    str(e.member_id),
                    str(e.upper_member_id),
                    e.assigned_on.isoformat(),
                    e.span_override_reason,
                    delivered.position,
                )
            case MemberUnassigned() as e:
                await tx.execute(
                    f"UPDATE {p}view_members SET upper_member_id = NULL WHERE member_id = $1",
                    str(e.member_id),
                )
                await tx.execute(
                    f"UPDATE {p}view_links SET unassigned_on = $3, unassign_reason = $4 "
                    "WHERE lower_member_id = $1 AND upper_member_id = $2 AND unassigned_on IS NULL",
                    str(e.member_id),
                    str(e.upper_member_id),
                    e.unassigned_on.isoformat(),
                    e.reason,
                )
            case SpanPolicyChanged() as e:
                await tx.execute(
                    f"INSERT INTO {p}view_policy (id, leader, committee, representative) "
                    "VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET "
                    "leader = excluded.leader, committee = excluded.committee, "
                    "representative = excluded.representative",
                    e.leader,
                    e.committee,
                    e.representative,
                )
