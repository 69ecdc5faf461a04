"""HTTP routes of the tags: the federation's vocabulary, a suggestion's tags, re-tagging."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from access.guard import Caller
from eventspine.errors import NotFoundError
from feedback.api import REFUSED, Actor, Context, FeedbackDep, may_see
from feedback.tag_handlers import TagHandlers, TagSuggestion
from servicekit import http as servicekit_http

router = APIRouter(tags=["tags"])
public = APIRouter(tags=["tags"])
"""Without sign-in: the workers' intake page offers the tags too."""


class TagPublic(BaseModel):
    """One tag of the vocabulary."""

    code: str = Field(description="stable code, as events record it")
    name: str = Field(description="the tag in Chinese")
    name_en: str = Field(description="the tag in English")
    keywords: list[str] = Field(description="words that suggest it from a suggestion's text")


class SuggestionTags(BaseModel):
    """The tags a suggestion carries now."""

    suggestion_id: UUID
    tags: list[str]


@public.get("/tags")
async def list_tags(feedback: FeedbackDep) -> list[TagPublic]:
    """The federation's tags, in the order forms show them (configuration)."""
    return [
        TagPublic(code=t.code, name=t.zh, name_en=t.en, keywords=list(t.keywords))
        for t in feedback.handlers.vocabulary.tags
    ]


@router.get(
    "/suggestions/{suggestion_id}/tags", responses={404: {"description": "no such suggestion"}}
)
async def suggestion_tags(
    suggestion_id: UUID, feedback: FeedbackDep, principal: Caller
) -> SuggestionTags:
    """The tags of a suggestion you may see."""
    await feedback.catch_up()
    found = await feedback.queries.suggestion(suggestion_id)
    if found is None:
        raise NotFoundError("suggestion_id", "no such suggestion", code="suggestion_not_found")
    await may_see(feedback, principal, found)
    tags = await TagHandlers(feedback.handlers).tags_of(suggestion_id)
    return SuggestionTags(suggestion_id=suggestion_id, tags=tags)


@router.post("/suggestions/{suggestion_id}/tags", responses=REFUSED)
async def retag_suggestion(
    suggestion_id: UUID, body: TagSuggestion, feedback: FeedbackDep, actor: Actor, ctx: Context
) -> servicekit_http.CommandAccepted:
    """The holder sets the suggestion's tags again (codes from ``/tags``)."""
    outcome = await feedback.commands.run(body, ctx, suggestion_id=suggestion_id, actor_id=actor)
    return servicekit_http.CommandAccepted.of(outcome.events)
