"""Bulk import of union organisations, members and links from an XLSX workbook or CSV files.

**Files.** Either an XLSX workbook with up to three sheets named `units`, `members` and `links`
(or 单位, 成员 and 结对; the template's 说明 and 现有单位 sheets are read past, any other sheet
is refused), or one CSV file per kind (UTF-8 with or without BOM, GBK or GB18030, detected
and given in the report's `encoding`; comma-separated), uploaded with `kind=units`, `members`
or `links`. The first row of a sheet names its columns, in any order, in English or Chinese
(`GET /imports/template` has the Chinese headers); an unknown or repeated column is refused,
optional columns may be left out, blank rows are ignored. `kind` and `tier` take their codes
or their Chinese names (县（区）总工会, 工会代表...). A problem names its sheet and column as
the file does. At most 10 MiB and 100,000 rows per sheet.

Columns (*optional* ones in italics):

- `units`: `code`, `name`, `kind` (`city_federation`, `county_union` or `enterprise_union`),
  *`parent_code`* (empty only for the city federation).
- `members`: `unit_code`, `external_number`, `tier` (`leader`, `committee`, `representative`
  or `worker`), `name`, *`phone`*, *`wechat_id`*, *`registered_on`* (YYYY-MM-DD; default
  today).
- `links`: `upper_unit_code`, `upper_external_number`, `lower_unit_code`,
  `lower_external_number`, *`assigned_on`* (YYYY-MM-DD; default today),
  *`span_override_reason`*.

A unit's `code` is the file's own key of an organisation (for example `YQ`, `YQ-YX`); members
and links refer to units by code and to members by unit code and external number (compared
without regard to case); an organisation registered through the API, whose id comes from no
code, cannot be named in a file. The same file always gives the same ids, so importing a file again
changes nothing: a unit, member or link that is already in the roster as the file describes it
is skipped. Something in the roster under the same key but described differently (another name,
tier, parent or upper member) is a problem: the import adds, it never changes or moves. So it
never ends a link either (a linked member is relinked through the API, where a link cannot end
before it started nor on or before a contact logged on it).

**Checks.** Every row is checked with the rules of the matching API command (same messages):
the field formats, references within the file and to the roster (parent unit, member's unit,
link ends), one row per external number in a unit, one upper member per lower member, links
only from the tier directly above, and the upper member's target span: a link beyond it needs
a `span_override_reason` (links are counted in file order, after those the roster holds).
A row that depends on a refused row (a member of a refused unit, say) is not checked further.

**Dry run and apply.** `dry_run=true` checks and answers the report (rows, what would be
created, what is skipped, and every problem with its sheet, row number as a spreadsheet shows
it, the header being row 1, and column) without storing anything. Without it, a file with any
problem is refused as a whole (422, the same report); otherwise the rows become the ordinary
commands, units (parents first), then members, then links, appending the ordinary events with
the request's actor and one correlation id (`X-Correlation-Id`, or a new one; the report gives
it). No `Idempotency-Key` is needed: a file imported again changes nothing. Each command is
atomic, the import as a whole is not: if a concurrent change refuses a command midway (409),
what was stored stays, and importing the same file again completes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from typing import TypeVar
from uuid import UUID

from eventspine.aggregate import retry_on_conflict
from eventspine.errors import DomainError
from eventspine.store.base import CommandContext
from roster import commands as cmd
from roster import domain
from roster.bootstrap import Roster
from roster.domain import Member, Unit
from roster.handlers import RosterHandlers
from roster.import_rows import COLUMN_OF, KINDS, ImportRows, Kind, problem, read_rows
from roster.import_words import SHEET_NAMES
from roster.models import ImportCounts, ImportProblem, ImportReport

MAX_PROBLEMS = 1000
"""Problems listed in a report (all are counted)."""
PARENTS_FIRST = {"city_federation": 0, "county_union": 1, "enterprise_union": 2}
NO_UNIT = "no union organisation has this code in the file or the roster"
UNIT_DIFFERS = (
    "the roster holds a union organisation with this code under another name, kind or parent; "
    "an import adds, it never changes"
)
MEMBER_DIFFERS = (
    "the roster holds a member with this unit code and external number with another {0}; "
    "an import adds, it never changes"
)
NO_MEMBER = "no member has this unit code and external number in the file or the roster"
_COMPARED = ("unit_code", "tier", "name", "phone", "wechat_id")
T = TypeVar("T")


@dataclass
class Plan:
    """A checked file: the commands it comes to, what it skips, and every problem."""

    counts: dict[Kind, int]
    units: list[cmd.RegisterUnit] = field(default_factory=list)
    members: list[cmd.RegisterMember] = field(default_factory=list)
    links: list[cmd.LinkMember] = field(default_factory=list)
    skipped: dict[Kind, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    problems: list[ImportProblem] = field(default_factory=list)
    encoding: str | None = None

    def report(self, *, dry_run: bool, correlation_id: UUID | None = None) -> ImportReport:
        """The plan as a report; an applied one carries the import's correlation id."""
        created = {"units": len(self.units), "members": len(self.members), "links": len(self.links)}
        counts = {
            k: ImportCounts(rows=self.counts[k], created=created[k], skipped=self.skipped[k])
            for k in KINDS
        }
        order: dict[str, int] = {k: i + 1 for i, k in enumerate(KINDS)}  # unknown sheets first
        order.update({SHEET_NAMES[k]: i for k, i in order.items() if k in SHEET_NAMES})
        problems = sorted(self.problems, key=lambda p: (order.get(p.sheet, 0), p.row or 0))
        return ImportReport(
            dry_run=dry_run,
            applied=correlation_id is not None,
            correlation_id=correlation_id,
            units=counts["units"],
            members=counts["members"],
            links=counts["links"],
            encoding=self.encoding,
            problem_count=len(problems),
            problems=problems[:MAX_PROBLEMS],
        )


class _Checker:
    """Checks a file's commands against the roster, keeping in memory the units and members
    as the rows so far leave them, so that links are decided by the domain's own rule."""

    def __init__(self, handlers: RosterHandlers, rows: ImportRows) -> None:
        self.handlers = handlers
        self.rows = rows
        self.plan = Plan(counts=rows.counts, problems=list(rows.problems))
        self.today = handlers.clock.today()
        self.units: dict[UUID, Unit | None] = {}
        self.new_units: set[UUID] = set()
        self.members: dict[UUID, Member | None] = {}
        self.refused = set(rows.refused)  # and the members refused here

    def flag(self, kind: Kind, row: int, field_name: str, message: str) -> None:
        """Note a problem of a row, in the column ``field_name`` (a command's field) comes from."""
        self.plan.problems.append(
            problem(kind, row, COLUMN_OF[kind].get(field_name, field_name), message)
        )

    def not_future(self, kind: Kind, row: int, field_name: str, day: date | None) -> bool:
        """False (and a problem noted) when ``day`` is after today."""
        try:
            domain.effective_date(day, self.today, field_name)
        except DomainError as exc:
            self.flag(kind, row, exc.field, exc.reason)
            return False
        return True

    async def unit(self, key: UUID) -> Unit | None:
        """A unit as the rows so far leave it (loaded from the roster the first time)."""
        if key not in self.units:
            self.units[key] = (await self.handlers.unit(key))[0]
        return self.units[key]

    async def member(self, key: UUID) -> Member | None:
        """A member as the rows so far leave it (loaded from the roster the first time)."""
        if key not in self.members:
            self.members[key] = (await self.handlers.member(key))[0]
        return self.members[key]

    async def check_units(self) -> None:
        """An existing unit must be as the row describes it; a new one needs a parent of the
        right kind, in the file or the roster (the domain's rule decides)."""
        new: list[tuple[int, cmd.RegisterUnit]] = []
        for row, command in self.rows.units:
            existing = await self.unit(command.unit_id)
            if existing is None:
                self.units[command.unit_id] = Unit(
                    command.unit_id, command.name, command.kind, None
                )
                self.new_units.add(command.unit_id)
                new.append((row, command))
            elif (existing.name, existing.kind, existing.parent_unit_id) == (
                command.name,
                command.kind,
                command.parent_unit_id,
            ):
                self.plan.skipped["units"] += 1
            else:
                self.flag("units", row, "unit_id", UNIT_DIFFERS)
        for row, command in new:  # every unit of the file is known now: check the parents
            parent_id = command.parent_unit_id
            if parent_id in self.refused:
                continue
            parent = None if parent_id is None else await self.unit(parent_id)
            if parent_id is not None and parent is None:
                self.flag("units", row, "parent_unit_id", NO_UNIT)
                continue
            try:
                domain.decide_register_unit(None, parent, command)
            except DomainError as exc:
                self.flag("units", row, exc.field, exc.reason)
                continue
            self.plan.units.append(command)
        self.plan.units.sort(key=lambda command: PARENTS_FIRST[command.kind])

    async def check_members(self) -> None:
        """An existing member must be as the row describes it; a new one needs an open unit
        and an external number nobody else in the unit holds."""
        for row, command in self.rows.members:
            if not await self.check_member(row, command):
                self.refused.add(command.member_id)

    async def check_member(self, row: int, command: cmd.RegisterMember) -> bool:
        """True when the member is in the roster as described, or may be registered."""
        if command.unit_id in self.refused:
            return False
        unit = await self.unit(command.unit_id)
        if unit is None:
            self.flag("members", row, "unit_id", NO_UNIT)
            return False
        existing = await self.member(command.member_id)
        if existing is not None:
            return await self.alike(row, command, existing)
        if unit.closed:
            self.flag("members", row, "unit_id", f"the union organisation {unit.name!r} is closed")
            return False
        if not self.not_future("members", row, "registered_on", command.registered_on):
            return False
        if command.unit_id not in self.new_units and await self.number_taken(command):
            self.flag("members", row, "external_number", domain.NUMBER_TAKEN)
            return False
        self.members[command.member_id] = Member(
            command.member_id, command.unit_id, command.tier, number_index="", personal_data=""
        )
        self.plan.members.append(command)
        return True

    async def alike(self, row: int, command: cmd.RegisterMember, existing: Member) -> bool:
        """True (the row skipped) when the roster holds the member as the row describes it."""
        if not existing.active:
            message = f"the member has {existing.status}; the import does not bring members back"
            self.flag("members", row, "external_number", message)
            return False
        data = await self.handlers.vault.unseal(existing.member_id, existing.personal_data) or {}
        ours = (command.unit_id, command.tier, command.name, command.phone, command.wechat_id)
        theirs = (
            existing.unit_id,
            existing.tier,
            data.get("name"),
            data.get("phone"),
            data.get("wechat_id"),
        )
        differ = [c for c, a, b in zip(_COMPARED, ours, theirs, strict=True) if a != b]
        if differ:
            self.flag("members", row, differ[0], MEMBER_DIFFERS.format(", ".join(differ)))
            return False
        self.plan.skipped["members"] += 1
        return True

    async def number_taken(self, command: cmd.RegisterMember) -> bool:
        """Whether another member of the (existing) unit holds the external number."""
        index = self.handlers.number_index(command.unit_id, command.external_number)
        claim, _ = await self.handlers.claim(command.unit_id, index)
        return claim.member_id is not None

    async def check_links(self) -> None:
        """Replay the links in file order through the domain's own rule (adjacent tiers, one
        upper member each, the target span unless overridden), after the roster's links."""
        policy, _ = await self.handlers.policy()
        for row, command in self.rows.links:
            upper = await self.link_end(row, command.upper_member_id, "upper_member_id")
            lower = await self.link_end(row, command.lower_member_id, "lower_member_id")
            if upper is None or lower is None:
                continue
            on = command.assigned_on
            if not self.not_future("links", row, "assigned_on", on):
                continue
            if lower.active and lower.upper_member_id == upper.member_id:
                self.plan.skipped["links"] += 1
                continue
            reason = command.span_override_reason
            try:
                changes = domain.decide_link(lower, upper, policy, on or self.today, reason)
            except DomainError as exc:
                self.flag("links", row, exc.field, exc.reason)
                continue
            for key, events in changes.items():
                for event in events:
                    self.members[key] = domain.evolve_member(self.members[key], event)
            self.plan.links.append(command)

    async def link_end(self, row: int, key: UUID, field_name: str) -> Member | None:
        """One end of a link; None when unknown (noted) or its member row was refused."""
        if key in self.refused:
            return None
        found = await self.member(key)
        if found is None:
            self.flag("links", row, field_name, NO_MEMBER)
        return found


async def check(handlers: RosterHandlers, rows: ImportRows) -> Plan:
    """Check a file's commands against each other and the roster; store nothing."""
    checker = _Checker(handlers, rows)
    steps = (checker.check_units, checker.check_members, checker.check_links)
    for kind, step in zip(KINDS, steps, strict=True):
        await step()
        if kind in rows.unread:  # the sheets after it refer to it: checking them would only
            break  # repeat that its rows are missing
    checker.plan.problems = rows.in_file_words(checker.plan.problems)
    checker.plan.encoding = rows.encoding
    return checker.plan


async def _new_unit(
    handlers: RosterHandlers, ctx: CommandContext, command: cmd.RegisterUnit
) -> bool:
    if (await handlers.unit(command.unit_id))[0] is not None:
        return False  # a concurrent import of the same file got there first
    await handlers.register_unit(command, ctx)
    return True


async def _new_member(
    handlers: RosterHandlers, ctx: CommandContext, command: cmd.RegisterMember
) -> bool:
    if (await handlers.member(command.member_id))[0] is not None:
        return False
    await handlers.register_member(command, ctx)
    return True


async def _new_link(handlers: RosterHandlers, ctx: CommandContext, command: cmd.LinkMember) -> bool:
    lower, _ = await handlers.member(command.lower_member_id)
    if lower is not None and lower.upper_member_id == command.upper_member_id:
        return False
    await handlers.link(command, ctx)
    return True


async def _issue(commands: Sequence[T], step: Callable[[T], Awaitable[bool]]) -> list[T]:
    """Run each command in turn (deciding again when a concurrent change won); those that
    stored something."""
    return [command for command in commands if await retry_on_conflict(partial(step, command))]


async def apply(handlers: RosterHandlers, plan: Plan, ctx: CommandContext) -> Plan:
    """Issue a checked plan's commands as the API would: units (parents first), members,
    links. Returns what was stored; a thing that appeared meanwhile (a concurrent import of
    the same file) counts as skipped."""
    ctx = replace(ctx, command_id=None)  # one idempotency key would make command 2 a replay of 1
    done = Plan(counts=plan.counts, skipped=dict(plan.skipped), encoding=plan.encoding)
    done.units = await _issue(plan.units, partial(_new_unit, handlers, ctx))
    done.members = await _issue(plan.members, partial(_new_member, handlers, ctx))
    done.links = await _issue(plan.links, partial(_new_link, handlers, ctx))
    done.skipped["units"] += len(plan.units) - len(done.units)
    done.skipped["members"] += len(plan.members) - len(done.members)
    done.skipped["links"] += len(plan.links) - len(done.links)
    return done


async def import_file(
    roster: Roster, data: bytes, kind: Kind | None, *, dry_run: bool, ctx: CommandContext
) -> ImportReport:
    """Read and check an uploaded file and, unless it is a dry run or the file has problems,
    store it and bring the read model up to date. Raises ``DomainError("file", ...)`` for a
    file that cannot be read."""
    plan = await check(roster.handlers, read_rows(data, kind))
    if dry_run or plan.problems:
        return plan.report(dry_run=dry_run)
    try:
        done = await apply(roster.handlers, plan, ctx)
    finally:  # after a command refused midway too: what was stored shows in the read model
        await roster.catch_up()
    return done.report(dry_run=False, correlation_id=ctx.correlation_id)
