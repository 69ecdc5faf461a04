"""Queries over the roster's read model (``roster.view``); they never touch the event store."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventspine.projection import Tx
from roster.domain import SpanPolicy
from roster.models import (
    MemberName,
    MemberPublic,
    MembersPublic,
    OverSpan,
    SpanPolicyPublic,
    UnitNode,
    UnitPublic,
)

_MEMBER = (
    "SELECT m.member_id, m.unit_id, m.tier, m.status, m.upper_member_id, m.name, m.phone, "
    "m.wechat_id, m.external_number, m.registered_on, "
    "(SELECT count(*) FROM {p}view_members l WHERE l.upper_member_id = m.member_id "
    "AND l.status = 'active') AS span FROM {p}view_members m"
)
MAX_CHAIN = 10  # tiers are strictly ordered, so a chain has at most 3 links; this guards loops


def _member(row: Any) -> MemberPublic:
    return MemberPublic(
        member_id=row[0],
        unit_id=row[1],
        tier=row[2],
        status=row[3],
        upper_member_id=row[4],
        name=row[5],
        phone=row[6],
        wechat_id=row[7],
        external_number=row[8],
        registered_on=row[9],
        span=row[10],
    )


class RosterQueries:
    """Read-only questions about units, members and links."""

    def __init__(self, reader: Tx, default_policy: SpanPolicy, prefix: str = "") -> None:
        self.reader = reader
        self.default_policy = default_policy
        self.p = prefix
        self._member_sql = _MEMBER.format(p=prefix)

    async def _members(self, where: str, args: list[Any], limit: int, offset: int) -> MembersPublic:
        count = await self.reader.fetchval(
            f"SELECT count(*) FROM {self.p}view_members m WHERE {where}", *args
        )
        n = len(args)
        rows = await self.reader.fetch(
            f"{self._member_sql} WHERE {where} ORDER BY m.registered_on, m.member_id "
            f"LIMIT ${n + 1} OFFSET ${n + 2}",
            *args,
            limit,
            offset,
        )
        return MembersPublic(data=[_member(r) for r in rows], count=int(count))

    async def member(self, member_id: UUID) -> MemberPublic | None:
        """One member, or None."""
        row = await self.reader.fetchrow(
            f"{self._member_sql} WHERE m.member_id = $1", str(member_id)
        )
        return None if row is None else _member(row)

    async def names(self, member_ids: list[UUID]) -> list[MemberName]:
        """The display names of ``member_ids`` (unknown ids are left out)."""
        wanted = sorted({str(m) for m in member_ids})
        if not wanted:
            return []
        marks = ", ".join(f"${i}" for i in range(1, len(wanted) + 1))
        rows = await self.reader.fetch(
            f"SELECT member_id, name, status FROM {self.p}view_members "
            f"WHERE member_id IN ({marks}) ORDER BY member_id",
            *wanted,
        )
        return [MemberName(member_id=r[0], name=r[1], status=r[2]) for r in rows]

    async def lower_members(self, member_id: UUID, limit: int, offset: int) -> MembersPublic:
        """The members ``member_id`` keeps in contact with now."""
        return await self._members(
            "m.upper_member_id = $1 AND m.status = 'active'", [str(member_id)], limit, offset
        )

    async def chain(self, member_id: UUID) -> list[MemberPublic]:
        """The member and their upper members, up to the top of the chain."""
        chain: list[MemberPublic] = []
        current = await self.member(member_id)
        while current is not None and len(chain) < MAX_CHAIN:
            chain.append(current)
            if current.upper_member_id is None:
                break
            current = await self.member(current.upper_member_id)
        return chain

    async def unlinked(
        self, tier: str | None, unit_id: UUID | None, limit: int, offset: int
    ) -> MembersPublic:
        """Active members below the top tier who have no upper member."""
        where = "m.status = 'active' AND m.tier <> 'leader' AND m.upper_member_id IS NULL"
        args: list[Any] = []
        if tier is not None:
            args.append(tier)
            where += f" AND m.tier = ${len(args)}"
        if unit_id is not None:
            args.append(str(unit_id))
            where += f" AND m.unit_id = ${len(args)}"
        return await self._members(where, args, limit, offset)

    async def policy(self) -> SpanPolicy:
        """The span policy in force."""
        row = await self.reader.fetchrow(
            f"SELECT leader, committee, representative FROM {self.p}view_policy WHERE id = 1"
        )
        return self.default_policy if row is None else SpanPolicy(row[0], row[1], row[2])

    async def policy_public(self) -> SpanPolicyPublic:
        """The span policy, as the API shows it."""
        policy = await self.policy()
        return SpanPolicyPublic(
            leader=policy.leader, committee=policy.committee, representative=policy.representative
        )

    async def over_span(self) -> list[OverSpan]:
        """Upper members holding more lower members than their tier's target."""
        policy = await self.policy()
        rows = await self.reader.fetch(
            f"{self._member_sql} WHERE m.status = 'active' AND m.tier <> 'worker' "
            "ORDER BY m.tier, m.member_id"
        )
        result = []
        for row in rows:
            member = _member(row)
            target = policy.target(member.tier)
            if member.span > target:
                result.append(OverSpan(member=member, target=target))
        return result

    async def search(
        self, text: str, limit: int, offset: int, within: set[UUID] | None = None
    ) -> MembersPublic:
        """Members whose name contains ``text`` or whose external number equals it; only
        those in ``within`` when given (a member's own part of the tree)."""
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where = "(m.name LIKE $1 ESCAPE '\\' OR m.external_number = $2)"
        args: list[Any] = [pattern, text]
        if within is not None:
            marks = ", ".join(f"${i}" for i in range(3, 3 + len(within)))
            where += f" AND m.member_id IN ({marks or 'NULL'})"
            args.extend(str(m) for m in sorted(within))
        return await self._members(where, args, limit, offset)

    async def unit(self, unit_id: UUID) -> UnitPublic | None:
        """One union organisation."""
        row = await self.reader.fetchrow(
            f"SELECT u.unit_id, u.name, u.kind, u.parent_unit_id, u.closed, c.code "
            f"FROM {self.p}view_units u LEFT JOIN {self.p}view_unit_codes c "
            "ON c.unit_id = u.unit_id WHERE u.unit_id = $1",
            str(unit_id),
        )
        if row is None:
            return None
        return UnitPublic(
            unit_id=row[0],
            name=row[1],
            kind=row[2],
            parent_unit_id=row[3],
            closed=bool(row[4]),
            code=row[5],
        )

    async def unit_tree(self) -> list[UnitNode]:
        """Every union organisation, nested under its parent."""
        rows = await self.reader.fetch(
            f"SELECT u.unit_id, u.name, u.kind, u.parent_unit_id, u.closed, c.code "
            f"FROM {self.p}view_units u LEFT JOIN {self.p}view_unit_codes c "
            "ON c.unit_id = u.unit_id ORDER BY u.name"
        )
        nodes = {
            str(r[0]): UnitNode(
                unit_id=r[0],
                name=r[1],
                kind=r[2],
                parent_unit_id=r[3],
                closed=bool(r[4]),
                code=r[5],
            )
            for r in rows
        }
        roots: list[UnitNode] = []
        for node in nodes.values():
            parent = nodes.get(str(node.parent_unit_id)) if node.parent_unit_id else None
            (parent.children if parent else roots).append(node)
        return roots
