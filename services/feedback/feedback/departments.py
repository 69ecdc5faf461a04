"""Departments that act (交办): members appointed to a federation department take up what is
assigned to it and record the outcome, with a deadline of their own.

The rules are pure (``decide_*``; :func:`load` reads a department's stream). The members of
a department are one stream (``department-<code>``), so an appointment and the check "acts
for this department" read the same history. The read model (:class:`DepartmentsProjection`)
answers which departments a member acts for and what waits on a department.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID

from eventspine.errors import DomainError, NotPermittedError, StateConflictError
from eventspine.events import DomainEvent
from eventspine.projection import Delivered, Tx
from eventspine.store.base import EventStore
from feedback import events as ev
from feedback.state import MemberInfo, Suggestion


def department_stream(code: str) -> str:
    """Stream of one department's members."""
    return f"department-{code}"


@dataclass(frozen=True)
class Department:
    """Who acts for a department now."""

    members: frozenset[UUID] = field(default_factory=frozenset)


def evolve_department(state: Department, event: DomainEvent) -> Department:
    """Apply one event of a department's stream."""
    match event:
        case ev.DepartmentMemberAppointed():
            return Department(state.members | {event.member_id})
        case ev.DepartmentMemberReleased():
            return Department(state.members - {event.member_id})
    return state


async def load(store: EventStore, code: str) -> tuple[Department, int]:
    """Who acts for a department now, and its stream's version."""
    recorded = await store.read_stream(department_stream(code))
    state = Department()
    for event in recorded:
        decoded = store.registry.decode(event.event_type, event.schema_version, event.data)
        state = evolve_department(state, decoded)
    return state, len(recorded)


def _leader(actor: MemberInfo) -> None:
    if not (actor.active and actor.tier == "leader"):
        raise NotPermittedError(
            "actor",
            "a leadership member appoints a department's members",
            code="leadership_appoints",
        )


def _known(code: str, departments: Mapping[str, str]) -> None:
    if code not in departments:
        raise DomainError(
            "department", f"unknown department; one of {sorted(departments)}", code="not_one_of"
        )


def decide_appoint(
    state: Department,
    code: str,
    actor: MemberInfo,
    member: MemberInfo | None,
    departments: Mapping[str, str],
) -> list[DomainEvent]:
    """A leadership member appoints an active member to act for a department."""
    _leader(actor)
    _known(code, departments)
    if member is None or not member.active:
        raise StateConflictError("member_id", "must be an active member", code="member_not_active")
    if member.member_id in state.members:
        raise StateConflictError(
            "member_id",
            "this member acts for the department already",
            code="department_member_exists",
        )
    return [
        ev.DepartmentMemberAppointed(
            department=code, member_id=member.member_id, appointed_by=actor.member_id
        )
    ]


def decide_release(
    state: Department, code: str, actor: MemberInfo, member_id: UUID
) -> list[DomainEvent]:
    """A leadership member releases a member from a department."""
    _leader(actor)
    if member_id not in state.members:
        raise StateConflictError(
            "member_id", "this member does not act for the department", code="not_department_member"
        )
    return [
        ev.DepartmentMemberReleased(
            department=code, member_id=member_id, released_by=actor.member_id
        )
    ]


def decide_take_up(
    state: Suggestion, actor: MemberInfo, department: Department
) -> list[DomainEvent]:
    """A member acting for the department takes up a suggestion assigned to it."""
    if not (actor.active and actor.member_id in department.members):
        raise NotPermittedError(
            "actor",
            "you do not act for the department it is assigned to",
            code="not_department_member_acting",
        )
    if state.status != "assigned":
        raise StateConflictError(
            "status",
            f"cannot take up a suggestion that is {state.status}; it must be assigned",
            code="wrong_status",
        )
    if state.taken_up_by is not None:
        raise StateConflictError(
            "status", "the department took it up already", code="already_taken_up"
        )
    return [
        ev.SuggestionTakenUp(
            suggestion_id=state.suggestion_id,
            department=state.department or "",
            taken_up_by=actor.member_id,
            level=state.level,
        )
    ]


class DepartmentsProjection:
    """Projection of the department events into ``<prefix>department_members``."""

    name = "feedback.departments"
    services = ("feedback",)

    def __init__(self, prefix: str = "") -> None:
        self.p = prefix

    async def setup(self, tx: Tx) -> None:
        """Create the table."""
        await tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.p}department_members (department TEXT NOT NULL, "
            "member_id TEXT NOT NULL, PRIMARY KEY (department, member_id))"
        )
        await tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.p}department_taken_up (suggestion_id TEXT "
            "PRIMARY KEY, taken_up_by TEXT NOT NULL, taken_up_at TEXT NOT NULL)"
        )

    async def reset(self, tx: Tx) -> None:
        """Empty the tables."""
        await tx.execute(f"DELETE FROM {self.p}department_members")
        await tx.execute(f"DELETE FROM {self.p}department_taken_up")

    async def apply(self, tx: Tx, delivered: Delivered) -> None:
        """Apply one feedback event; the others are not about departments."""
        match delivered.event:
            case ev.DepartmentMemberAppointed() as e:
                await tx.execute(
                    f"INSERT INTO {self.p}department_members VALUES ($1, $2) "
                    "ON CONFLICT (department, member_id) DO NOTHING",
                    e.department,
                    str(e.member_id),
                )
            case ev.DepartmentMemberReleased() as e:
                await tx.execute(
                    f"DELETE FROM {self.p}department_members WHERE department = $1 "
                    "AND member_id = $2",
                    e.department,
                    str(e.member_id),
                )
            case ev.SuggestionAssigned() as e:
                # Assigned again (after its step lapsed): the department takes it up anew.
                await tx.execute(
                    f"DELETE FROM {self.p}department_taken_up WHERE suggestion_id = $1",
                    str(e.suggestion_id),
                )
            case ev.SuggestionTakenUp() as e:
                await tx.execute(
                    f"INSERT INTO {self.p}department_taken_up VALUES ($1, $2, $3) "
                    "ON CONFLICT (suggestion_id) DO UPDATE SET taken_up_by = excluded.taken_up_by, "
                    "taken_up_at = excluded.taken_up_at",
                    str(e.suggestion_id),
                    str(e.taken_up_by),
                    delivered.time.isoformat(),
                )


class DepartmentQueries:
    """Who acts for which department, and what was taken up."""

    def __init__(self, reader: Tx, prefix: str = "") -> None:
        self.reader = reader
        self.p = prefix

    async def of_member(self, member_id: UUID) -> list[str]:
        """The departments a member acts for."""
        rows = await self.reader.fetch(
            f"SELECT department FROM {self.p}department_members WHERE member_id = $1 "
            "ORDER BY department",
            str(member_id),
        )
        return [str(r[0]) for r in rows]

    async def members(self, code: str) -> list[UUID]:
        """The members acting for a department."""
        rows = await self.reader.fetch(
            f"SELECT member_id FROM {self.p}department_members WHERE department = $1 "
            "ORDER BY member_id",
            code,
        )
        return [UUID(r[0]) for r in rows]

    async def taken_up(self, suggestion_ids: list[str]) -> dict[str, str]:
        """Of these suggestions, those a department took up, and by whom."""
        found: dict[str, str] = {}
        for sid in suggestion_ids:
            by = await self.reader.fetchval(
                f"SELECT taken_up_by FROM {self.p}department_taken_up WHERE suggestion_id = $1",
                sid,
            )
            if by is not None:
                found[sid] = str(by)
        return found
