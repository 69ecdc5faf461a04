"""HTTP routes of the workers' door.

Public (no token; the signed link or the follow-up code is the credential): open an intake
link, submit a suggestion by it, follow a suggestion by its code and rate it. Members: issue,
show and revoke intake links, and set a suggestion aside as spam or a duplicate.

The follow-up answer names no member: where the suggestion is (with a representative, a
committee member, the federation leadership, a department), the answer, the outcome, the
ratings, and why it was set aside.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, status
from pydantic import BaseModel, Field

from access.guard import Caller
from eventspine.errors import NotFoundError
from eventspine.store.base import CommandContext
from feedback import intake_commands as icmd
from feedback.api import REFUSED, Actor, Context, FeedbackDep, act_on, may_see
from feedback.bootstrap import Feedback
from feedback.events import IntakeOwner
from feedback.intake import LinkInfo, LinkInvalidError, LinkRevokedError
from feedback.models import CommandAccepted
from servicekit import http as servicekit_http


class IntakeLinkPublic(BaseModel):
    """An intake link: its token goes into the URL and the QR code."""

    link_id: UUID
    owner: IntakeOwner
    unit_id: UUID
    holder_id: UUID = Field(description="the member who receives what arrives by it")
    token: str
    revoked: bool


class IntakeLinkIssuedPublic(servicekit_http.CommandAccepted):
    """A link was issued: the link and the events appended."""

    link: IntakeLinkPublic


class IntakeReceipt(BaseModel):
    """What the worker keeps: the code to follow the suggestion with."""

    follow_up_code: str = Field(description="16 letters and digits; only the worker has it")


class FollowUpStep(BaseModel):
    """One step of the suggestion's life, without who took it."""

    type: str
    time: datetime


class FollowUpRating(BaseModel):
    """A rating the raiser gave."""

    rating: str
    comment: str | None
    reopened: bool
    rated_at: datetime


class FollowUpPublic(BaseModel):
    """A suggestion as the worker who raised it sees it, by the follow-up code."""

    category: str
    text: str | None
    status: str
    stage: str = Field(
        description="representative, committee, federation or department: who has it now"
    )
    department: str | None = Field(description="the department's name, when one acts on it")
    answer: str | None
    outcome: str | None
    raised_at: datetime
    may_rate: bool = Field(description="answered or resolved: the worker may rate it now")
    set_aside: str | None = Field(description="spam or duplicate, when it was set aside")
    set_aside_reason: str | None
    ratings: list[FollowUpRating]
    steps: list[FollowUpStep]


class IntakeLinkOpen(BaseModel):
    """What the intake page needs to know about a live link."""

    owner: IntakeOwner
    unit_id: UUID


def public_context(
    link_id: UUID,
    idempotency_key: Annotated[uuid.UUID | None, Header()] = None,
    x_correlation_id: Annotated[uuid.UUID | None, Header()] = None,
) -> CommandContext:
    """The context of what a worker does without an account: the link is the actor."""
    return CommandContext(
        actor=f"intake:{link_id}",
        correlation_id=x_correlation_id or uuid.uuid4(),
        command_id=idempotency_key,
    )


async def live_link(feedback: Feedback, token: str) -> LinkInfo:
    """The live link a token names; 404 if forged, 409 if revoked."""
    link_id = feedback.signer.link_id(token)
    if link_id is None:
        raise LinkInvalidError()
    await feedback.catch_up()
    link = await feedback.intake.link(link_id)
    if link is None:
        raise LinkInvalidError()
    if link.revoked:
        raise LinkRevokedError()
    return link


def _link(feedback: Feedback, link: LinkInfo) -> IntakeLinkPublic:
    return IntakeLinkPublic(
        link_id=link.link_id,
        owner=link.owner,
        unit_id=link.unit_id,
        holder_id=link.holder_id,
        token=feedback.signer.link_token(link.link_id),
        revoked=link.revoked,
    )


public = APIRouter(tags=["intake"])
links = APIRouter(tags=["intake"])
LINK_REFUSED: dict[int | str, dict[str, Any]] = {
    404: {"description": "a forged or unknown link (`intake_link_invalid`)"},
    409: {"description": "a revoked link (`intake_link_revoked`), or the same text again"},
    422: {"description": "invalid input; the answer names the field"},
    429: {"description": "the link took its limit of suggestions this hour"},
}


@public.get("/intake/{token}", responses=LINK_REFUSED)
async def open_link(token: str, feedback: FeedbackDep) -> IntakeLinkOpen:
    """Whether a link is live (the intake page opens only then)."""
    link = await live_link(feedback, token)
    return IntakeLinkOpen(owner=link.owner, unit_id=link.unit_id)


@public.post(
    "/intake/{token}/suggestions", status_code=status.HTTP_201_CREATED, responses=LINK_REFUSED
)
async def submit_suggestion(
    token: str,
    body: icmd.SubmitSuggestion,
    feedback: FeedbackDep,
    idempotency_key: Annotated[uuid.UUID | None, Header()] = None,
    x_correlation_id: Annotated[uuid.UUID | None, Header()] = None,
) -> IntakeReceipt:
    """A worker's suggestion by a live link: held by the link's holder. The answer is the
    receipt, with the follow-up code (a retry with the same Idempotency-Key gets the same)."""
    link = await live_link(feedback, token)
    ctx = public_context(link.link_id, idempotency_key, x_correlation_id)
    outcome = await feedback.commands.run(body, ctx, link_id=link.link_id)
    assert outcome.command.suggestion_id is not None
    code = feedback.signer.follow_up_code(outcome.command.suggestion_id)
    return IntakeReceipt(follow_up_code=code)


async def follow_up_view(feedback: Feedback, code: str) -> FollowUpPublic:
    """The worker's view of the suggestion a code belongs to (404 if none)."""
    suggestion_id = await feedback.intake_handlers.suggestion_of(code)
    found = await feedback.queries.suggestion(suggestion_id)
    about = await feedback.intake.intake(suggestion_id)
    if found is None or about is None:
        raise LinkInvalidError()
    if found.department is not None and found.status in ("assigned", "resolved", "closed"):
        stage = "department"
    elif found.holder_id is None or found.holder_tier == "leader":
        stage = "federation"
    else:
        stage = found.holder_tier or "federation"
    ratings = [FollowUpRating(**r) for r in await feedback.intake.ratings(suggestion_id)]
    department = (
        feedback.settings.departments.get(found.department, found.department)
        if found.department
        else None
    )
    return FollowUpPublic(
        category=found.category,
        text=found.text,
        status=found.status,
        stage=stage,
        department=department,
        answer=found.answer,
        outcome=found.outcome,
        raised_at=found.raised_at,
        may_rate=found.status in ("answered", "resolved"),
        set_aside=about["mark"],
        set_aside_reason=about["mark_reason"],
        ratings=ratings,
        steps=[FollowUpStep(type=e.type, time=e.time) for e in found.timeline],
    )


@public.get("/follow-up/{code}", responses={404: {"description": "no such follow-up code"}})
async def follow_up(code: str, feedback: FeedbackDep) -> FollowUpPublic:
    """Where a suggestion is, by the follow-up code the worker got with the receipt."""
    return await follow_up_view(feedback, code)


@public.post("/follow-up/{code}/rating", responses=REFUSED)
async def rate_suggestion(
    code: str,
    body: icmd.RateSuggestion,
    feedback: FeedbackDep,
    idempotency_key: Annotated[uuid.UUID | None, Header()] = None,
    x_correlation_id: Annotated[uuid.UUID | None, Header()] = None,
) -> FollowUpPublic:
    """The worker rates the answer or outcome: satisfied closes it, dissatisfied may reopen it."""
    ctx = CommandContext(
        actor="intake:follow-up",
        correlation_id=x_correlation_id or uuid.uuid4(),
        command_id=idempotency_key,
    )
    await feedback.commands.run(body, ctx, code=code)
    return await follow_up_view(feedback, code)


class IntakePublic(BaseModel):
    """How a suggestion arrived by an intake link, for those who handle it."""

    verification: str = Field(description="anonymous, unverified or matched")
    name: str | None = Field(description="the name the worker gave (null once shredded)")
    phone: str | None
    set_aside: str | None
    set_aside_reason: str | None


@links.get("/suggestions/{suggestion_id}/intake", responses={404: {"description": "not by a link"}})
async def suggestion_intake(
    suggestion_id: UUID, feedback: FeedbackDep, principal: Caller
) -> IntakePublic:
    """How a worker's suggestion arrived: verified or not, and the name and phone given (for
    those who may see the suggestion)."""
    await feedback.catch_up()
    found = await feedback.queries.suggestion(suggestion_id)
    about = await feedback.intake.intake(suggestion_id)
    if found is None or about is None:
        raise NotFoundError(
            "suggestion_id",
            "no suggestion arrived by a link with this id",
            code="suggestion_not_found",
        )
    await may_see(feedback, principal, found)
    return IntakePublic(
        verification=about["verification"],
        name=about["contact_name"],
        phone=about["contact_phone"],
        set_aside=about["mark"],
        set_aside_reason=about["mark_reason"],
    )


@links.post("/intake-links", status_code=status.HTTP_201_CREATED, responses=REFUSED)
async def issue_link(
    body: icmd.IssueIntakeLink, feedback: FeedbackDep, actor: Actor, ctx: Context
) -> IntakeLinkIssuedPublic:
    """Issue your own intake link, or an enterprise union's; the live one is revoked."""
    outcome = await feedback.commands.run(body, ctx, actor_id=actor)
    assert outcome.command.link_id is not None
    await feedback.catch_up()
    link = await feedback.intake.link(outcome.command.link_id)
    if link is None:
        raise LinkInvalidError()
    return IntakeLinkIssuedPublic(
        link=_link(feedback, link), events=servicekit_http.refs(outcome.events)
    )


@links.get("/intake-links/of/{owner_id}", responses={404: {"description": "no live link"}})
async def owner_link(owner_id: UUID, feedback: FeedbackDep) -> IntakeLinkPublic:
    """The live link of a representative (member id) or an enterprise union (unit id)."""
    await feedback.catch_up()
    link = await feedback.intake.live_link(owner_id)
    if link is None:
        raise LinkInvalidError()
    return _link(feedback, link)


@links.post("/intake-links/{link_id}/revocation", responses=REFUSED)
async def revoke_link(
    link_id: UUID, feedback: FeedbackDep, actor: Actor, ctx: Context
) -> servicekit_http.CommandAccepted:
    """Withdraw a link: it opens nothing any more (print a new one to replace it)."""
    outcome = await feedback.commands.run(
        icmd.RevokeIntakeLink(), ctx, link_id=link_id, actor_id=actor
    )
    return servicekit_http.CommandAccepted.of(outcome.events)


@links.post("/suggestions/{suggestion_id}/rating", responses=REFUSED)
async def rate_own(
    suggestion_id: UUID,
    body: icmd.RateOwnSuggestion,
    feedback: FeedbackDep,
    actor: Actor,
    ctx: Context,
) -> CommandAccepted:
    """The member who raised it rates the answer or outcome (closing or, not solved,
    reopening it)."""
    return await act_on(feedback, body, ctx, suggestion_id, actor)


@links.post("/suggestions/{suggestion_id}/setting-aside", responses=REFUSED)
async def set_aside(
    suggestion_id: UUID,
    body: icmd.SetSuggestionAside,
    feedback: FeedbackDep,
    actor: Actor,
    ctx: Context,
) -> CommandAccepted:
    """The holder sets a suggestion aside as spam or a duplicate; the worker sees why."""
    return await act_on(feedback, body, ctx, suggestion_id, actor)


ROUTERS = (links,)
PUBLIC_ROUTERS = (public,)
