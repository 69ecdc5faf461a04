"""HTTP routes of the feedback service: each builds a command or a query and hands it over.

The acting member is the signed-in member's account (only members of the tree act on
suggestions; staff, auditors and systems read). Acting on a suggestion you may not act on (not
its holder, not its raiser, a worker who is not yours) is 403; acting on it in the wrong state
(answering a closed suggestion) is 409 naming the state. A member reads the suggestions of
their own part of the tree, and those they raised, held or acted on.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel

from access.guard import Caller, check_reach, only_member
from access.principal import Principal
from eventspine.errors import NotFoundError, NotPermittedError
from eventspine.store.base import CommandContext
from feedback import commands as cmd
from feedback.bootstrap import Feedback
from feedback.handlers import new_suggestion_id
from feedback.models import (
    CommandAccepted,
    Department,
    SuggestionsPublic,
    SuggestionWithTimeline,
)
from servicekit.http import command_context


async def get_feedback(request: Request) -> Feedback:
    """The feedback service wired by the app's lifespan."""
    feedback: Feedback = request.app.state.feedback
    return feedback


def acting_member(principal: Caller) -> UUID:
    """The member who acts: the signed-in member (403 for any other role)."""
    return only_member(principal)


async def may_see(feedback: Feedback, principal: Principal, found: SuggestionWithTimeline) -> None:
    """403 unless a member principal raised, holds, held or acted on the suggestion, or it
    belongs to their part of the tree; leadership members see what waits at the top."""
    if principal.role != "member" or principal.member_id is None:
        return
    me = principal.member_id
    involved = {found.raised_by, found.on_behalf_of, found.holder_id}
    involved.update(entry.holder_id for entry in found.timeline)
    if me in involved or any(entry.actor.endswith(f"member:{me}") for entry in found.timeline):
        return
    if found.department and found.department in await feedback.departments.of_member(me):
        return  # a member acting for the department it was assigned to
    if found.holder_id is None:
        info = await feedback.chain.member(me)
        if info is not None and info.active and info.tier == "leader":
            return
    await check_reach(principal, feedback.tree, involved)


async def at_the_top(feedback: Feedback, principal: Principal) -> None:
    """The federation inbox is for leadership members, staff and readers of everything."""
    if principal.role != "member" or principal.member_id is None:
        return
    info = await feedback.chain.member(principal.member_id)
    if info is None or not info.active or info.tier != "leader":
        raise NotPermittedError(
            "Authorization",
            "the federation inbox is for leadership members",
            code="leadership_inbox",
        )


async def act_on(
    feedback: Feedback, command: BaseModel, ctx: CommandContext, suggestion_id: UUID, actor: UUID
) -> CommandAccepted:
    """Hand a member's command on a suggestion to the command pipeline; the answer names the
    suggestion and the events appended."""
    outcome = await feedback.commands.run(command, ctx, suggestion_id=suggestion_id, actor_id=actor)
    return CommandAccepted.naming(suggestion_id, outcome.events)


FeedbackDep = Annotated[Feedback, Depends(get_feedback)]
Context = Annotated[CommandContext, Depends(command_context)]
Actor = Annotated[UUID, Depends(acting_member)]
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="rows to skip")]
REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "you may not act on this suggestion (not its holder or raiser)"},
    404: {"description": "no such suggestion or member"},
    409: {
        "description": "the suggestion is not in a state that allows this (the answer names "
        "it), a concurrent change won, or the roster replica is behind (retry)"
    },
    422: {"description": "invalid input; the answer names the field"},
}

suggestions = APIRouter(prefix="/suggestions", tags=["suggestions"])
inboxes = APIRouter(tags=["inboxes"])
departments = APIRouter(prefix="/departments", tags=["departments"])


@suggestions.post("", status_code=status.HTTP_201_CREATED, responses=REFUSED)
async def raise_suggestion(
    body: cmd.RaiseSuggestion, feedback: FeedbackDep, actor: Actor, ctx: Context
) -> CommandAccepted:
    """Raise a suggestion, for yourself or for a worker you are the upper contact of. It is
    held by the upper contact of the one it speaks for (past departed members). For your own
    worker you would hold it yourself, so ``then`` is required: answer it now or pass it up
    at once (without it: 409 ``raise_choice_required``, nothing stored). Its ``tags`` (codes
    from ``/tags``; none: suggested from the text) are recorded in the same append."""
    outcome = await feedback.commands.run(body, ctx, actor_id=actor)
    return CommandAccepted.naming(new_suggestion_id(outcome.command), outcome.events)


@suggestions.get("/{suggestion_id}", responses={404: {"description": "no such suggestion"}})
async def get_suggestion(
    suggestion_id: UUID, feedback: FeedbackDep, principal: Caller
) -> SuggestionWithTimeline:
    """A suggestion with its full timeline."""
    await feedback.catch_up()
    found = await feedback.queries.suggestion(suggestion_id)
    if found is None:
        raise NotFoundError("suggestion_id", "no such suggestion", code="suggestion_not_found")
    await may_see(feedback, principal, found)
    return found


@suggestions.post("/{suggestion_id}/acknowledgement", responses=REFUSED)
async def acknowledge_suggestion(
    suggestion_id: UUID, feedback: FeedbackDep, actor: Actor, ctx: Context
) -> CommandAccepted:
    """The holder has seen the suggestion; the answer deadline runs on."""
    return await act_on(feedback, cmd.AcknowledgeSuggestion(), ctx, suggestion_id, actor)


@suggestions.post("/{suggestion_id}/answer", responses=REFUSED)
async def answer_suggestion(
    suggestion_id: UUID,
    body: cmd.AnswerSuggestion,
    feedback: FeedbackDep,
    actor: Actor,
    ctx: Context,
) -> CommandAccepted:
    """The holder answers the raiser."""
    return await act_on(feedback, body, ctx, suggestion_id, actor)


@suggestions.post("/{suggestion_id}/escalation", responses=REFUSED)
async def escalate_suggestion(
    suggestion_id: UUID,
    body: cmd.EscalateSuggestion,
    feedback: FeedbackDep,
    actor: Actor,
    ctx: Context,
) -> CommandAccepted:
    """The holder passes the suggestion to their own upper contact, saying why."""
    return await act_on(feedback, body, ctx, suggestion_id, actor)


@suggestions.post("/{suggestion_id}/assignment", responses=REFUSED)
async def assign_suggestion(
    suggestion_id: UUID,
    body: cmd.AssignSuggestion,
    feedback: FeedbackDep,
    actor: Actor,
    ctx: Context,
) -> CommandAccepted:
    """At the top of the chain, give the suggestion to a federation department."""
    return await act_on(feedback, body, ctx, suggestion_id, actor)


@suggestions.post("/{suggestion_id}/resolution", responses=REFUSED)
async def resolve_suggestion(
    suggestion_id: UUID,
    body: cmd.ResolveSuggestion,
    feedback: FeedbackDep,
    actor: Actor,
    ctx: Context,
) -> CommandAccepted:
    """Record the outcome of the department's work."""
    return await act_on(feedback, body, ctx, suggestion_id, actor)


@suggestions.post("/{suggestion_id}/closure", responses=REFUSED)
async def close_suggestion(
    suggestion_id: UUID, feedback: FeedbackDep, actor: Actor, ctx: Context
) -> CommandAccepted:
    """The raiser confirms the answer or outcome."""
    return await act_on(feedback, cmd.CloseSuggestion(), ctx, suggestion_id, actor)


@suggestions.post("/{suggestion_id}/reopening", responses=REFUSED)
async def reopen_suggestion(
    suggestion_id: UUID,
    body: cmd.ReopenSuggestion,
    feedback: FeedbackDep,
    actor: Actor,
    ctx: Context,
) -> CommandAccepted:
    """The raiser is not satisfied: the holder has it again, with fresh deadlines."""
    return await act_on(feedback, body, ctx, suggestion_id, actor)


@inboxes.get("/members/{member_id}/inbox")
async def member_inbox(
    member_id: UUID,
    feedback: FeedbackDep,
    principal: Caller,
    limit: Limit = 50,
    offset: Offset = 0,
) -> SuggestionsPublic:
    """Suggestions waiting on a member, soonest deadline first."""
    await check_reach(principal, feedback.tree, [member_id])
    await feedback.catch_up()
    return await feedback.queries.inbox(member_id, limit, offset)


@inboxes.get("/federation/inbox")
async def federation_inbox(
    feedback: FeedbackDep, principal: Caller, limit: Limit = 50, offset: Offset = 0
) -> SuggestionsPublic:
    """Suggestions at the top of the chain, with the federation leadership as a whole."""
    await at_the_top(feedback, principal)
    await feedback.catch_up()
    return await feedback.queries.inbox(None, limit, offset)


@inboxes.get("/members/{member_id}/suggestions")
async def raised_suggestions(
    member_id: UUID,
    feedback: FeedbackDep,
    principal: Caller,
    limit: Limit = 50,
    offset: Offset = 0,
) -> SuggestionsPublic:
    """Suggestions a member raised, or that were raised for them, with their answers."""
    await check_reach(principal, feedback.tree, [member_id])
    await feedback.catch_up()
    return await feedback.queries.raised_by(member_id, limit, offset)


@departments.get("")
async def list_departments(feedback: FeedbackDep) -> list[Department]:
    """The federation departments suggestions can be assigned to (configuration)."""
    return [Department(code=c, name=n) for c, n in feedback.settings.departments.items()]


ROUTERS = (suggestions, inboxes, departments)
