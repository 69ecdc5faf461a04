"""Events of the roster service (the contact database and the 1:5:5:10 contact tree).

Names and versions are part of the public contract on ``sanlian.roster.events``: a change of
shape is a new version with an upcaster, never an edit. Members are referred to by id only;
personal data never appears here in clear.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import Field

from eventspine.events import DomainEvent, EventCatalogue

Tier = Literal["leader", "committee", "representative", "worker"]
UnitKind = Literal["city_federation", "county_union", "enterprise_union"]


class UnitRegistered(DomainEvent):
    """A union organisation joined the tree (city federation, county union, enterprise union)."""

    event_type = "UnitRegistered"
    event_version = 1

    unit_id: UUID
    name: str = Field(min_length=1, max_length=200, description="public name of the union")
    kind: UnitKind
    parent_unit_id: UUID | None = Field(None, description="None only for the city federation")


class MemberAssigned(DomainEvent):
    """An upper member now keeps in contact with a lower member of the next tier down."""

    event_type = "MemberAssigned"
    event_version = 1

    member_id: UUID = Field(description="the lower member")
    upper_member_id: UUID
    tier: Tier = Field(description="the lower member's tier")
    assigned_on: date
    span_override_reason: str | None = Field(
        None, max_length=500, description="why the upper member's span may be exceeded"
    )


CATALOGUE = EventCatalogue([UnitRegistered, MemberAssigned])
