"""HTTP routes of the roster: each builds a command or a query and hands it over."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile, status
from fastapi.responses import Response

from access.guard import OVERSIGHT, Caller, check_reach, reach_of
from eventspine.errors import NotFoundError
from eventspine.store.base import CommandContext
from roster import accounts_api as access_api
from roster import commands as cmd
from roster import importer
from roster.bootstrap import Roster
from roster.events import Tier
from roster.import_rows import MAX_BYTES, Kind
from roster.import_template import template
from roster.models import (
    HandbookPublic,
    ImportReport,
    MemberName,
    MemberPublic,
    MembersPublic,
    OverSpan,
    SpanPolicyPublic,
    UnitNode,
    UnitPublic,
)
from servicekit.http import CommandAccepted, command_context
from servicekit.problems import problem_response


async def get_roster(request: Request) -> Roster:
    """The roster wired by the app's lifespan."""
    roster: Roster = request.app.state.roster
    return roster


async def get_access(request: Request) -> access_api.Access:
    """Sign-in and accounts, over the roster's account store."""
    roster: Roster = request.app.state.roster
    state = request.app.state
    return access_api.Access(
        roster.accounts,
        state.tokens,
        state.settings,
        state.token_clock,
        roster.member_tier,
        roster.commands,
    )


RosterDep = Annotated[Roster, Depends(get_roster)]
Context = Annotated[CommandContext, Depends(command_context)]
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="rows to skip")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such member or organisation"}
}
REFUSED: dict[int | str, dict[str, Any]] = {
    404: {"description": "a named member or organisation does not exist"},
    409: {"description": "the command does not fit the current state, or a concurrent change won"},
    422: {"description": "invalid input; the answer names the field"},
}
ENDS_LINKS: dict[int | str, dict[str, Any]] = {
    **REFUSED,
    409: {
        "description": (
            "the command does not fit the current state, or a concurrent change won; or its "
            "date would end a link before the link started (code `link_change_before_start`) "
            "or on or before the latest contact logged on it (code "
            "`link_change_before_contact`), which would then count on no link: the answer "
            "names the date field, and the reason gives the link's start or the contact's date"
        )
    },
}

units = APIRouter(prefix="/units", tags=["units"])
members = APIRouter(prefix="/members", tags=["members"])
links = APIRouter(prefix="/links", tags=["links"])
policy = APIRouter(prefix="/policy", tags=["policy"])


@units.post("", status_code=status.HTTP_201_CREATED, responses=REFUSED)
async def register_unit(body: cmd.RegisterUnit, roster: RosterDep, ctx: Context) -> CommandAccepted:
    """Register a union organisation (city federation, county union or enterprise union)."""
    outcome = await roster.commands.run(body, ctx)
    return CommandAccepted.of(outcome.events)


@units.get("")
async def unit_tree(roster: RosterDep) -> list[UnitNode]:
    """Every union organisation, nested under its parent."""
    return await roster.queries.unit_tree()


@units.get("/{unit_id}", responses=NOT_FOUND)
async def get_unit(unit_id: UUID, roster: RosterDep) -> UnitPublic:
    """One union organisation."""
    unit = await roster.queries.unit(unit_id)
    if unit is None:
        raise NotFoundError("unit_id", "no such union organisation", code="unit_not_found")
    return unit


@units.put("/{unit_id}/name", responses=REFUSED)
async def rename_unit(
    unit_id: UUID, body: cmd.RenameUnit, roster: RosterDep, ctx: Context
) -> CommandAccepted:
    """Rename a union organisation."""
    outcome = await roster.commands.run(body, ctx, unit_id=unit_id)
    return CommandAccepted.of(outcome.events)


@units.post("/{unit_id}/closure", responses=REFUSED)
async def close_unit(
    unit_id: UUID, body: cmd.CloseUnit, roster: RosterDep, ctx: Context
) -> CommandAccepted:
    """Close a union organisation."""
    outcome = await roster.commands.run(body, ctx, unit_id=unit_id)
    return CommandAccepted.of(outcome.events)


@members.post("", status_code=status.HTTP_201_CREATED, responses=REFUSED)
async def register_member(
    body: cmd.RegisterMember, roster: RosterDep, ctx: Context
) -> CommandAccepted:
    """Enter a person in the contact database. The external number must be free in the unit."""
    outcome = await roster.commands.run(body, ctx)
    return CommandAccepted.of(outcome.events)


@members.get("")
async def search_members(
    roster: RosterDep,
    q: Annotated[
        str,
        Query(
            min_length=1, max_length=100, description="part of a name, or a whole external number"
        ),
    ],
    principal: Caller,
    limit: Limit = 50,
    offset: Offset = 0,
) -> MembersPublic:
    """Find members by name or external number (a member finds only their own part of the
    tree)."""
    return await roster.queries.search(q, limit, offset, await reach_of(principal, roster.tree))


@members.get("/unlinked", dependencies=[OVERSIGHT])
async def unlinked_members(
    roster: RosterDep,
    tier: Tier | None = None,
    unit_id: UUID | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> MembersPublic:
    """Active members below the top tier that nobody keeps in contact with."""
    return await roster.queries.unlinked(tier, unit_id, limit, offset)


@members.get("/over-span", dependencies=[OVERSIGHT])
async def over_span_members(roster: RosterDep) -> list[OverSpan]:
    """Upper members holding more lower members than their tier's target span."""
    return await roster.queries.over_span()


@members.get("/names", dependencies=[OVERSIGHT])
async def member_names(
    roster: RosterDep,
    member_id: Annotated[
        list[UUID], Query(min_length=1, max_length=200, description="the members, repeated")
    ],
) -> list[MemberName]:
    """Display names only, for systems that show people what they are told (notify renders
    its messages with them when they are read or sent, so no name rests in its events): a
    forgotten member's name is null; unknown ids are left out."""
    return await roster.queries.names(member_id)


@members.get("/{member_id}", responses=NOT_FOUND)
async def get_member(member_id: UUID, roster: RosterDep, principal: Caller) -> MemberPublic:
    """One member (a member sees their own part of the tree and their upper contacts)."""
    if principal.member_id is not None and principal.role == "member":
        above = await roster.queries.chain(principal.member_id)
        if member_id not in {m.member_id for m in above}:
            await check_reach(principal, roster.tree, [member_id])
    member = await roster.queries.member(member_id)
    if member is None:
        raise NotFoundError("member_id", "no such member", code="member_not_found")
    return member


@members.get("/{member_id}/lower-members", responses=NOT_FOUND)
async def lower_members(
    member_id: UUID, roster: RosterDep, principal: Caller, limit: Limit = 50, offset: Offset = 0
) -> MembersPublic:
    """The members this member keeps in contact with."""
    await check_reach(principal, roster.tree, [member_id])
    if await roster.queries.member(member_id) is None:
        raise NotFoundError("member_id", "no such member", code="member_not_found")
    return await roster.queries.lower_members(member_id, limit, offset)


@members.get("/{member_id}/chain", responses=NOT_FOUND)
async def member_chain(member_id: UUID, roster: RosterDep, principal: Caller) -> list[MemberPublic]:
    """The member and their upper members, up to the top."""
    await check_reach(principal, roster.tree, [member_id])
    chain = await roster.queries.chain(member_id)
    if not chain:
        raise NotFoundError("member_id", "no such member", code="member_not_found")
    return chain


@members.put("/{member_id}/details", responses=REFUSED)
async def change_details(
    member_id: UUID, body: cmd.ChangeDetails, roster: RosterDep, ctx: Context
) -> CommandAccepted:
    """Correct a member's name, phone or WeChat id."""
    outcome = await roster.commands.run(body, ctx, member_id=member_id)
    return CommandAccepted.of(outcome.events)


@members.post("/{member_id}/tier", responses=ENDS_LINKS)
async def change_tier(
    member_id: UUID, body: cmd.ChangeTier, roster: RosterDep, ctx: Context
) -> CommandAccepted:
    """Change a member's tier. Every link of theirs ends (not before it started, nor on or
    before a contact logged on it); their lower members become unlinked."""
    outcome = await roster.commands.run(body, ctx, member_id=member_id)
    return CommandAccepted.of(outcome.events)


@members.post("/{member_id}/move", responses=REFUSED)
async def move_member(
    member_id: UUID, body: cmd.MoveMember, roster: RosterDep, ctx: Context
) -> CommandAccepted:
    """Move a member to another union organisation (their links stay)."""
    outcome = await roster.commands.run(body, ctx, member_id=member_id)
    return CommandAccepted.of(outcome.events)


@members.post("/{member_id}/departure", responses=ENDS_LINKS)
async def depart_member(
    member_id: UUID, body: cmd.DepartMember, roster: RosterDep, ctx: Context
) -> CommandAccepted:
    """A member leaves: every link ends (not before it started, nor on or before a contact
    logged on it) and their lower members are left unlinked, visibly."""
    outcome = await roster.commands.run(body, ctx, member_id=member_id)
    return CommandAccepted.of(outcome.events)


@members.post("/{member_id}/forget", responses=REFUSED)
async def forget_member(member_id: UUID, roster: RosterDep, ctx: Context) -> CommandAccepted:
    """Destroy the member's key: their personal data becomes unreadable everywhere, for good."""
    outcome = await roster.commands.run(cmd.ForgetMember(member_id=member_id), ctx)
    return CommandAccepted.of(outcome.events)


@links.post("", status_code=status.HTTP_201_CREATED, responses=REFUSED)
async def link_member(body: cmd.LinkMember, roster: RosterDep, ctx: Context) -> CommandAccepted:
    """Link a lower member under an upper member of the tier directly above."""
    outcome = await roster.commands.run(body, ctx)
    return CommandAccepted.of(outcome.events)


@links.post("/unlink", responses=ENDS_LINKS)
async def unlink_member(body: cmd.UnlinkMember, roster: RosterDep, ctx: Context) -> CommandAccepted:
    """End a lower member's link to their upper member, on a day not before the link started
    and after the latest contact logged on it (the end day is already the next link's)."""
    outcome = await roster.commands.run(body, ctx)
    return CommandAccepted.of(outcome.events)


@links.post("/relink", responses=ENDS_LINKS)
async def relink_member(body: cmd.RelinkMember, roster: RosterDep, ctx: Context) -> CommandAccepted:
    """Move a lower member to another upper member in one step. The day ends the current
    link: not before it started, and after the latest contact logged on it."""
    outcome = await roster.commands.run(body, ctx)
    return CommandAccepted.of(outcome.events)


@policy.get("/span")
async def get_span_policy(roster: RosterDep) -> SpanPolicyPublic:
    """The target spans in force."""
    return await roster.queries.policy_public()


@policy.put("/span", responses=REFUSED)
async def change_span_policy(
    body: cmd.ChangeSpanPolicy, roster: RosterDep, ctx: Context
) -> CommandAccepted:
    """Change the target spans; the change is recorded as an event."""
    outcome = await roster.commands.run(body, ctx)
    return CommandAccepted.of(outcome.events)


handbook = APIRouter(prefix="/handbook", tags=["handbook"])


@handbook.get("")
async def get_handbook(roster: RosterDep) -> HandbookPublic:
    """The handbook in force (《工会代表联系职工群众工作手册》), in Markdown, with its version."""
    found = await roster.handlers.handbook()
    return HandbookPublic(version=found.version, text=found.text, note=found.note)


@handbook.put("", responses=REFUSED)
async def publish_handbook(
    body: cmd.PublishHandbook, roster: RosterDep, ctx: Context
) -> CommandAccepted:
    """Publish the handbook's next version (federation staff): the whole text, recorded as an
    event. ``expected_version`` refuses an edit of a version no longer in force (409)."""
    outcome = await roster.commands.run(body, ctx)
    return CommandAccepted.of(outcome.events)


imports = APIRouter(prefix="/imports", tags=["imports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "the report: what was (in a dry run: would be) created and skipped"},
    422: {
        "description": "`import_problems`: the file has problems, nothing was stored, and the "
        "problem document's `report` member (an `ImportReport`) lists them by sheet, row and "
        "column; or the file cannot be read at all (`file_empty`, `file_too_large`, "
        "`file_not_xlsx`, `file_is_xlsx`, `file_not_utf8`, `file_not_csv`, `too_many_rows`), "
        "or the request is not valid (`invalid_request`)"
    },
}


@imports.post(
    "",
    response_model=ImportReport,
    responses=IMPORT_ANSWERS,
    summary="Bulk import of units, members and links",
    description=importer.__doc__ or "",
)
async def import_roster(
    file: Annotated[
        UploadFile,
        File(
            description="an XLSX workbook, or a CSV file with `kind`; not empty",
            json_schema_extra={"minLength": 1},
        ),
    ],
    roster: RosterDep,
    ctx: Context,
    kind: Annotated[
        Kind | None, Query(description="what a CSV file holds; leave out for an XLSX workbook")
    ] = None,
    dry_run: Annotated[bool, Query(description="check and report only; store nothing")] = False,
) -> ImportReport | Response:
    """Check an uploaded file and, unless a dry run or the file has problems, store it."""
    data = await file.read(MAX_BYTES + 1)  # one byte more than allowed is enough to refuse it
    report = await importer.import_file(roster, data, kind, dry_run=dry_run, ctx=ctx)
    if report.problem_count and not dry_run:
        detail = f"the file has {report.problem_count} problems; nothing was stored"
        return problem_response(
            "import_problems",
            detail,
            field="file",
            params={"count": report.problem_count},
            extra={"report": report.model_dump(mode="json")},
        )
    return report


@imports.get(
    "/template",
    responses={200: {"content": {XLSX: {}}, "description": "the template workbook"}},
)
async def import_template(roster: RosterDep) -> Response:
    """An XLSX template to fill in: 单位, 成员 and 结对 sheets with the Chinese headers the
    import reads, a 说明 sheet explaining each column, and 现有单位, the organisations the
    roster holds with their codes (what members and links in a file refer to)."""
    tree = await roster.queries.unit_tree()
    flat: list[UnitPublic] = []
    stack: list[UnitNode] = list(tree)
    while stack:
        node = stack.pop(0)
        flat.append(node)
        stack[:0] = node.children
    name = quote("名册导入模板.xlsx", safe="")
    disposition = f"attachment; filename=\"roster-import-template.xlsx\"; filename*=UTF-8''{name}"
    return Response(template(flat), media_type=XLSX, headers={"Content-Disposition": disposition})


ROUTERS = (units, members, links, policy, handbook, imports)
PUBLIC_ROUTERS = access_api.routers(get_access)
"""Sign-in (no token needed) and accounts (each route checks its caller itself)."""
