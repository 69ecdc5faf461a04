"""The feedback service's replica of the roster: members and who each one's upper contact is.

Fed by the roster's events (from Kafka in the full topology, straight from the roster's SQLite
store in the embedded default); the feedback service never calls the roster to decide. Besides
the current upper contact it keeps the last one, so that a suggestion held by a member who
departed (their links ended with them) can still go to the next one up. It also keeps the
revoked tokens (:mod:`access.revocations`) the guard refuses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from uuid import UUID

from access.revocations import RevokedTokens
from contracts.roster import (
    MemberAssigned,
    MemberDeparted,
    MemberForgotten,
    MemberMoved,
    MemberPhoneIndexed,
    MemberRegistered,
    MemberTierChanged,
    MemberUnassigned,
)
from eventspine.projection import Delivered, Tx
from feedback.events import Route
from feedback.state import HOLDER_TIERS, MemberInfo, Routing

MAX_CHAIN = 10  # tiers are strictly ordered, so a chain has at most 3 links; this guards loops
Forgotten = Callable[[UUID], Awaitable[None]]


class RosterReplica:
    """Projection of the roster's member events into ``<prefix>replica_members``, and of its
    account events into ``<prefix>revoked_tokens``."""

    name = "feedback.roster_replica"
    services = ("roster",)

    def __init__(self, prefix: str = "", on_forgotten: Forgotten | None = None) -> None:
        self.p = prefix
        self.on_forgotten = on_forgotten
        self.revoked_tokens = RevokedTokens(prefix)

    async def setup(self, tx: Tx) -> None:
        """Create the tables."""
        await self.revoked_tokens.setup(tx)
        await tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.p}replica_members (member_id TEXT PRIMARY KEY, "
            "unit_id TEXT NOT NULL, tier TEXT NOT NULL, status TEXT NOT NULL, "
            "upper_member_id TEXT, last_upper_member_id TEXT)"
        )
        # Apart from replica_members (whose shape predates it): the phones' blind indexes.
        await tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.p}replica_phones (member_id TEXT PRIMARY KEY, "
            "phone_index TEXT NOT NULL)"
        )

    async def reset(self, tx: Tx) -> None:
        """Empty the tables."""
        await tx.execute(f"DELETE FROM {self.p}replica_members")
        await tx.execute(f"DELETE FROM {self.p}replica_phones")
        await self.revoked_tokens.reset(tx)

    async def _set(self, tx: Tx, member_id: UUID, column: str, value: Any) -> None:
        await tx.execute(
            f"UPDATE {self.p}replica_members SET {column} = $2 WHERE member_id = $1",
            str(member_id),
            value,
        )

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        """Apply one roster event; other types are ignored."""
        await self.revoked_tokens.apply(tx, delivered)
        match delivered.event:
            case MemberRegistered() as e:
                await tx.execute(
                    f"INSERT INTO {self.p}replica_members (member_id, unit_id, tier, status) "
                    "VALUES ($1, $2, $3, 'active') ON CONFLICT (member_id) DO NOTHING",
                    str(e.member_id),
                    str(e.unit_id),
                    e.tier,
                )
            case MemberTierChanged() as e:
                await self._set(tx, e.member_id, "tier", e.to_tier)
            case MemberMoved() as e:
                await self._set(tx, e.member_id, "unit_id", str(e.to_unit_id))
            case MemberDeparted() as e:
                await self._set(tx, e.member_id, "status", "departed")
            case MemberForgotten() as e:
                await self._set(tx, e.member_id, "status", "forgotten")
                await tx.execute(
                    f"DELETE FROM {self.p}replica_phones WHERE member_id = $1", str(e.member_id)
                )
                if self.on_forgotten is not None:
                    # Idempotent (destroying a destroyed key is a no-op), so a replay is harmless.
                    await self.on_forgotten(e.member_id)
            case MemberAssigned() as e:
                await tx.execute(
                    f"UPDATE {self.p}replica_members SET upper_member_id = $2, "
                    "last_upper_member_id = $2 WHERE member_id = $1",
                    str(e.member_id),
                    str(e.upper_member_id),
                )
            case MemberUnassigned() as e:
                await self._set(tx, e.member_id, "upper_member_id", None)
            case MemberPhoneIndexed() as e:
                await tx.execute(
                    f"DELETE FROM {self.p}replica_phones WHERE member_id = $1", str(e.member_id)
                )
                if e.phone_index is not None:
                    await tx.execute(
                        f"INSERT INTO {self.p}replica_phones (member_id, phone_index) "
                        "VALUES ($1, $2)",
                        str(e.member_id),
                        e.phone_index,
                    )


class Chain:
    """Questions about members and the chain, answered from the replica."""

    def __init__(self, reader: Tx, prefix: str = "") -> None:
        self.reader = reader
        self.p = prefix

    async def _row(self, member_id: UUID) -> Any:
        return await self.reader.fetchrow(
            f"SELECT member_id, tier, status, upper_member_id, last_upper_member_id "
            f"FROM {self.p}replica_members WHERE member_id = $1",
            str(member_id),
        )

    async def member(self, member_id: UUID) -> MemberInfo | None:
        """A member, or None if the replica has not seen them."""
        row = await self._row(member_id)
        if row is None:
            return None
        return MemberInfo(UUID(row[0]), row[1], row[2], UUID(row[3]) if row[3] else None)

    async def unit_of(self, member_id: UUID) -> UUID | None:
        """The unit a member belongs to, or None if the replica has not seen them."""
        unit = await self.reader.fetchval(
            f"SELECT unit_id FROM {self.p}replica_members WHERE member_id = $1", str(member_id)
        )
        return UUID(unit) if unit else None

    async def member_by_phone(self, phone_index: str) -> UUID | None:
        """The active member whose phone has this blind index (the oldest entry if several
        share one: a shared family phone still links to a record)."""
        found = await self.reader.fetchval(
            f"SELECT p.member_id FROM {self.p}replica_phones p JOIN {self.p}replica_members m "
            "ON m.member_id = p.member_id WHERE p.phone_index = $1 AND m.status = 'active' "
            "ORDER BY p.member_id LIMIT 1",
            phone_index,
        )
        return UUID(found) if found else None

    async def inactive(self, member_ids: Iterable[UUID]) -> set[UUID]:
        """Those of ``member_ids`` who departed or were forgotten."""
        gone = set()
        for member_id in member_ids:
            info = await self.member(member_id)
            if info is not None and not info.active:
                gone.add(member_id)
        return gone

    async def route_from(self, member_id: UUID) -> Routing:
        """The next active member up from ``member_id``, past departed ones.

        A departed member's links have ended, so the walk goes through the upper contact they
        had when they left. A member with no upper contact leads to the federation leadership
        (``holder_id`` None): at the top of the chain for a leadership member, a gap in the
        tree for anyone else, and the routing says which.
        """
        passed: list[UUID] = []
        current = member_id
        for _ in range(MAX_CHAIN):
            row = await self._row(current)
            if row is None:
                break
            upper = row[3]
            if upper is None and row[4] is not None:
                last = await self.member(UUID(row[4]))
                # A link that ended because someone departed still shows the way up; one that
                # was deliberately ended (unlinked) does not.
                if row[2] != "active" or passed or last is None or not last.active:
                    upper = row[4]
            if upper is None:
                route: Route = "top_of_chain" if row[1] == "leader" else "no_upper_contact"
                return Routing(None, None, route, tuple(passed))
            candidate = await self.member(UUID(upper))
            if candidate is not None and candidate.active and candidate.tier in HOLDER_TIERS:
                found: Route = "next_one_up" if passed else "upper_contact"
                return Routing(candidate.member_id, candidate.tier, found, tuple(passed))
            passed.append(UUID(upper))
            current = UUID(upper)
        return Routing(None, None, "no_upper_contact", tuple(passed))
