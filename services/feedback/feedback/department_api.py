"""HTTP routes of the departments that act: who acts for a department (a leadership member
appoints and releases them), what waits on it, and taking a suggestion up for it. The outcome
is recorded with ``POST /suggestions/{id}/resolution`` by a member acting for the department."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from access.guard import Caller, check_reach
from eventspine.errors import NotFoundError
from feedback.api import (
    REFUSED,
    Actor,
    Context,
    FeedbackDep,
    Limit,
    Offset,
    act_on,
    may_see,
)
from feedback.department_handlers import (
    AppointDepartmentMember,
    ReleaseDepartmentMember,
    TakeUpSuggestion,
)
from feedback.models import CommandAccepted, SuggestionsPublic
from servicekit import http as servicekit_http

router = APIRouter(tags=["departments"])


@router.post("/departments/{code}/members", responses=REFUSED)
async def appoint(
    code: str, body: AppointDepartmentMember, feedback: FeedbackDep, actor: Actor, ctx: Context
) -> servicekit_http.CommandAccepted:
    """A leadership member appoints a member to act for the department."""
    outcome = await feedback.commands.run(body, ctx, code=code, actor_id=actor)
    return servicekit_http.CommandAccepted.of(outcome.events)


@router.post("/departments/{code}/members/{member_id}/release", responses=REFUSED)
async def release(
    code: str, member_id: UUID, feedback: FeedbackDep, actor: Actor, ctx: Context
) -> servicekit_http.CommandAccepted:
    """A leadership member releases a member from the department."""
    outcome = await feedback.commands.run(
        ReleaseDepartmentMember(), ctx, code=code, member_id=member_id, actor_id=actor
    )
    return servicekit_http.CommandAccepted.of(outcome.events)


@router.get("/departments/{code}/members")
async def members(code: str, feedback: FeedbackDep) -> list[UUID]:
    """The members acting for a department."""
    await feedback.catch_up()
    return await feedback.departments.members(code)


@router.get("/members/{member_id}/departments")
async def of_member(member_id: UUID, feedback: FeedbackDep, principal: Caller) -> list[str]:
    """The departments a member acts for (a member asks of themself or of their part of the
    tree)."""
    await check_reach(principal, feedback.tree, [member_id])
    await feedback.catch_up()
    return await feedback.departments.of_member(member_id)


@router.get("/departments/{code}/inbox", responses={404: {"description": "no such department"}})
async def inbox(
    code: str, feedback: FeedbackDep, principal: Caller, limit: Limit = 50, offset: Offset = 0
) -> SuggestionsPublic:
    """What waits on the department's outcome, soonest deadline first."""
    if code not in feedback.settings.departments:
        raise NotFoundError(
            "department",
            "no such department",
            code="department_not_found",
        )
    await feedback.catch_up()
    return await feedback.queries.assigned_to(code, limit, offset)


@router.get("/suggestions/{suggestion_id}/taken-up")
async def taken_up(
    suggestion_id: UUID, feedback: FeedbackDep, principal: Caller
) -> dict[str, str | None]:
    """Who took the suggestion up for its department (null: nobody yet); asked by those who
    may see the suggestion."""
    await feedback.catch_up()
    suggestion = await feedback.queries.suggestion(suggestion_id)
    if suggestion is None:
        raise NotFoundError("suggestion_id", "no such suggestion", code="suggestion_not_found")
    await may_see(feedback, principal, suggestion)
    found = await feedback.departments.taken_up([str(suggestion_id)])
    return {"taken_up_by": found.get(str(suggestion_id))}


@router.post("/suggestions/{suggestion_id}/taking-up", responses=REFUSED)
async def take_up(
    suggestion_id: UUID, feedback: FeedbackDep, actor: Actor, ctx: Context
) -> CommandAccepted:
    """A member acting for the department it is assigned to takes the suggestion up."""
    return await act_on(feedback, TakeUpSuggestion(), ctx, suggestion_id, actor)
