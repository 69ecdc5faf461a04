"""States for the deciders' tests: units and members as their streams would leave them."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

from roster import events as ev
from roster.domain import Member, Unit

TODAY = date(2026, 6, 30)
TOMORROW = date(2026, 7, 1)


def unit(kind: ev.UnitKind = "city_federation", name: str = "阳泉市总工会") -> Unit:
    """An open unit."""
    return Unit(uuid.uuid4(), name, kind, None)


def member(
    tier: ev.Tier = "worker",
    *,
    unit_id: uuid.UUID | None = None,
    upper: Member | None = None,
    lowers: tuple[Member, ...] = (),
) -> Member:
    """An active member, linked under ``upper`` and above ``lowers`` as given."""
    return Member(
        member_id=uuid.uuid4(),
        unit_id=unit_id or uuid.uuid4(),
        tier=tier,
        number_index="a" * 64,
        personal_data="v1.sealed",
        upper_member_id=upper.member_id if upper else None,
        lower_member_ids=frozenset(m.member_id for m in lowers),
    )


def linked(upper: Member, lower: Member, since: date | None = None) -> tuple[Member, Member]:
    """``upper`` and ``lower`` with a link between them (started on ``since``, if given)."""
    return (
        replace(upper, lower_member_ids=upper.lower_member_ids | {lower.member_id}),
        replace(lower, upper_member_id=upper.member_id, linked_on=since),
    )
