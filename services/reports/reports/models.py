"""What the reports service's HTTP API answers."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field

from compliance.rule import Status


class LinkCompliance(BaseModel):
    """One link in one period under the contact rule."""

    link_id: UUID
    upper_member_id: UUID
    lower_member_id: UUID
    upper_tier: str
    lower_unit_id: UUID
    assigned_on: date
    unassigned_on: date | None
    required: int
    counted: int
    last_contact_on: date | None
    status: Status
    next_due: date | None


class Tally(BaseModel):
    """Counts of links by status, and the share that met the rule."""

    links: int = 0
    met: int = 0
    behind: int = 0
    none: int = 0

    @property
    def compliance(self) -> float:
        """Share of links that met the rule (1.0 when there are none)."""
        return self.met / self.links if self.links else 1.0

    def add(self, status: Status) -> None:
        """Count one link."""
        self.links += 1
        setattr(self, status, getattr(self, status) + 1)


class TallyPublic(Tally):
    """A tally as the API shows it."""

    compliance_pct: float = Field(description="met / links x 100, one decimal")


class GroupTally(BaseModel):
    """The tally of one group (a tier, a unit with its sub-units, an upper member)."""

    key: str
    tally: TallyPublic


class ComplianceReport(BaseModel):
    """The compliance view of one period: a page of links and the roll-ups."""

    period: str
    city: TallyPublic
    by_tier: list[GroupTally]
    by_unit: list[GroupTally]
    data: list[LinkCompliance]
    count: int = Field(description="links matching the filters, not only this page")


class OverSpanMember(BaseModel):
    """An upper member holding more lower members than the target span."""

    member_id: UUID
    tier: str
    unit_id: UUID
    span: int
    target: int


class UnlinkedMember(BaseModel):
    """An active member below the top tier that nobody keeps in contact with."""

    member_id: UUID
    tier: str
    unit_id: UUID


class Exposure(BaseModel):
    """Over-span and unlinked members, as the compliance view shows them."""

    over_span: list[OverSpanMember]
    unlinked: list[UnlinkedMember]
