"""What the reports service's HTTP API answers."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field

from compliance.rule import Status


class LinkCompliance(BaseModel):
    """One link in one period under the contact rule (:mod:`compliance.rule`): a link active
    the whole period owes the rule's minimum (2 a year by default); one that started or ended
    inside the period owes its share of the minimum by its active days, rounded to the nearest
    whole contact (halves up) and at least 1 (a link started on 1 July owes 1 in the year)."""

    link_id: UUID
    upper_member_id: UUID
    lower_member_id: UUID
    upper_tier: str
    lower_unit_id: UUID
    assigned_on: date = Field(description="the day the link started")
    unassigned_on: date | None = Field(
        description="the day the link ended (the lower member moved to another upper member, "
        "or was unlinked): its first day no longer active; null while the link lasts"
    )
    ended: bool = Field(
        description="the link has ended (on unassigned_on): the upper member held it earlier "
        "in the period and still answers for it here"
    )
    active_from: date = Field(description="the first day of the period the link was active")
    active_until: date = Field(description="the last day of the period the link was active")
    whole_period: bool = Field(
        description="active every day of the period, so it owes the rule's full minimum"
    )
    required: int = Field(
        description="contacts the link owes in the period: the rule's minimum for a whole "
        "period, its prorated share (at least 1) for part of it"
    )
    counted: int = Field(description="contacts (not retracted) dated on its active days")
    last_contact_on: date | None
    status: Status = Field(description="met: counted >= required; behind: some; none: 0")
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

    compliance_pct: float = Field(
        description="met / links x 100, one decimal; a link is met when it has the contacts it "
        "owes: the rule's minimum for a whole period, a prorated share (at least 1) for part"
    )


class GroupTally(BaseModel):
    """The tally of one group (a tier, a unit with its sub-units, an upper member)."""

    key: str
    tally: TallyPublic


class MonthCompliance(BaseModel):
    """Compliance as it stood at the end of one month: the period's links that had met the
    rule with the contacts dated until then."""

    month: str = Field(description="YYYY-MM")
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


class QueueItem(BaseModel):
    """An open suggestion in the escalation queue."""

    suggestion_id: UUID
    category: str
    status: str
    holder_id: UUID | None = Field(description="null: the federation leadership")
    holder_tier: str | None
    level: int
    escalations: int
    department: str | None
    raiser_unit_id: UUID | None = Field(
        description="kept for existing clients; despite its name, the same as subject_unit_id "
        "(the unit of the worker when a representative raised the suggestion for a worker)"
    )
    subject_unit_id: UUID | None = Field(
        description="the unit of the member the suggestion speaks for: the worker it was "
        "raised on behalf of, or else the member who raised it (the queue's unit_id filter)"
    )
    raised_by_unit_id: UUID | None = Field(
        description="the unit of the member who raised it (the representative, when raised "
        "for a worker); null if the reports do not know the member"
    )
    age_hours: float = Field(description="since the suggestion was raised")
    deadline: str | None = Field(
        description="the deadline that runs: acknowledge or answer (the holder's), department "
        "(the department's step it was assigned to), department_overdue (that step's deadline "
        "passed and it went back to whoever assigned it: hours_to_deadline stays negative "
        "until they act); null: none runs"
    )
    hours_to_deadline: float | None = Field(description="negative when overdue")


class QueuePage(BaseModel):
    """A page of the escalation queue, the most urgent first."""

    data: list[QueueItem]
    count: int
    overdue: int


class PerformanceRecord(BaseModel):
    """How a representative or committee member performed their duties (履职) in a period."""

    member_id: UUID
    tier: str
    contacts_made: int
    methods: dict[str, int]
    suggestions_raised: int
    suggestions_relayed: int
    suggestions_answered: int
    median_hours_to_answer: float | None
    ratings: dict[str, int] = Field(
        default_factory=dict,
        description="how the raisers rated the suggestions this member held, rated in the period",
    )
    satisfied_pct: float | None = Field(
        None, description="(satisfied + basically satisfied) / rated x 100; null if none rated"
    )


class SuggestionTally(BaseModel):
    """What became of the suggestions of one group (a level, a department) raised in a
    period."""

    key: str | None = Field(description="the level (escalations so far) or department code")
    raised: int
    answered: int
    resolved: int


class Overview(BaseModel):
    """The figures the federation reports for the city."""

    period: str
    linked_members: dict[str, int] = Field(description="members with an upper link now, per tier")
    compliance_pct: float = Field(
        description="links met / links x 100 in the period, each against what it owes "
        "(prorated for a link active part of the period, at least 1)"
    )
    suggestions_raised: int = Field(description="raised in the period")
    suggestions_answered: int = Field(description="of those, answered since")
    suggestions_resolved: int = Field(description="of those, resolved since")
    median_hours_to_first_answer: float | None
    by_level: list[SuggestionTally] = Field(
        default_factory=list, description="the period's suggestions by their level now"
    )
    by_department: list[SuggestionTally] = Field(
        default_factory=list,
        description="the period's suggestions by the department they are assigned to "
        "(null: not assigned)",
    )
