"""What the roster's HTTP API answers (read models and command results)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field

from roster.events import Tier, UnitKind


class UnitPublic(BaseModel):
    """A union organisation."""

    unit_id: UUID
    name: str
    kind: UnitKind
    parent_unit_id: UUID | None
    closed: bool
    code: str | None = Field(
        None, description="the code import files and pages know it by; null for a unit without"
    )


class UnitNode(UnitPublic):
    """A union organisation with its sub-organisations."""

    children: list[UnitNode] = Field(default_factory=list)


class MemberPublic(BaseModel):
    """A member as the roster shows it. Personal fields are null once a member is forgotten."""

    member_id: UUID
    unit_id: UUID
    tier: Tier
    status: str = Field(description="active, departed or forgotten")
    upper_member_id: UUID | None
    name: str | None
    phone: str | None
    wechat_id: str | None
    external_number: str | None
    registered_on: date
    span: int = Field(description="lower members linked to this member now")


class MembersPublic(BaseModel):
    """A page of members."""

    data: list[MemberPublic]
    count: int = Field(description="all matching members, not only this page")


class MemberName(BaseModel):
    """A member's display name as the roster holds it now: null once forgotten."""

    member_id: UUID
    name: str | None
    status: str = Field(description="active, departed or forgotten")


class OverSpan(BaseModel):
    """An upper member holding more lower members than the target span."""

    member: MemberPublic
    target: int


class SpanPolicyPublic(BaseModel):
    """Target spans per upper tier."""

    leader: int
    committee: int
    representative: int


class ImportProblem(BaseModel):
    """Something wrong in an import file, where a spreadsheet program shows it."""

    sheet: str = Field(description="units, members or links (a CSV file's kind), or a sheet name")
    row: int | None = Field(
        description="row number as a spreadsheet shows it (the header is row 1); "
        "null when the problem is the whole sheet"
    )
    column: str | None = Field(description="the column's header; null for the whole row or sheet")
    message: str


class ImportCounts(BaseModel):
    """What one sheet (or CSV file) of an import holds."""

    rows: int = Field(description="data rows read (blank rows are not counted)")
    created: int = Field(description="rows that were (in a dry run: would be) stored")
    skipped: int = Field(description="rows that match what the roster already holds")


class ImportReport(BaseModel):
    """The outcome of a bulk import, or of its dry run."""

    dry_run: bool
    applied: bool = Field(description="true when the rows were stored")
    correlation_id: UUID | None = Field(
        None, description="correlation id of every event the import appended"
    )
    units: ImportCounts
    members: ImportCounts
    links: ImportCounts
    encoding: str | None = Field(
        None,
        description="a CSV file's encoding as detected: UTF-8, UTF-8 BOM, GBK or GB18030; "
        "null for a workbook",
    )
    problem_count: int = Field(description="all problems found; the list holds the first ones")
    problems: list[ImportProblem]


class HandbookPublic(BaseModel):
    """The handbook in force."""

    version: int = Field(description="0 before the first is published")
    text: str = Field(description="Markdown")
    note: str | None = Field(description="what the version changed")
