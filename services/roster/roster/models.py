"""What the roster's HTTP API answers (read models and command results)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field

from roster.events import Tier, UnitKind


class CommandAccepted(BaseModel):
    """A command's outcome: the events it appended, by stream and position."""

    events: list[RecordedRef]


class RecordedRef(BaseModel):
    """One appended event."""

    event_id: UUID
    type: str
    stream_id: str
    stream_version: int
    position: int


class UnitPublic(BaseModel):
    """A union organisation."""

    unit_id: UUID
    name: str
    kind: UnitKind
    parent_unit_id: UUID | None
    closed: bool


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


class OverSpan(BaseModel):
    """An upper member holding more lower members than the target span."""

    member: MemberPublic
    target: int


class SpanPolicyPublic(BaseModel):
    """Target spans per upper tier."""

    leader: int
    committee: int
    representative: int


CommandAccepted.model_rebuild()
