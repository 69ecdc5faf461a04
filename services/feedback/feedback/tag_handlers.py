"""Setting a suggestion's tags again (a holder does), and reading them: from the suggestion's
own stream, the one place its tags are recorded (``SuggestionTagged``)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from eventspine.envelope import RecordedEvent
from eventspine.store.base import CommandContext
from feedback import tagging
from feedback.commands import Command, TagCode
from feedback.handlers import FeedbackHandlers, suggestion_stream
from servicekit.commands import Route, route


class TagSuggestion(Command):
    """Set the tags of a suggestion you hold (they replace the ones it has; none: untagged)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"tags": ["workplace_safety"]}]})

    tags: list[TagCode] = Field(max_length=10, description="codes from /tags")


class TagHandlers:
    """Handles re-tagging; reads a suggestion's tags."""

    def __init__(self, base: FeedbackHandlers) -> None:
        self.base = base

    async def tags_of(self, suggestion_id: UUID) -> list[str]:
        """The tags the suggestion carries now (empty: none, or no such suggestion)."""
        store = self.base.store
        recorded = await store.read_stream(suggestion_stream(suggestion_id))
        decoded = [store.registry.decode(e.event_type, e.schema_version, e.data) for e in recorded]
        return tagging.current_tags(decoded)

    async def retag(
        self,
        command: TagSuggestion,
        ctx: CommandContext,
        *,
        suggestion_id: UUID,
        actor_id: UUID,
    ) -> list[RecordedEvent]:
        """The holder sets the tags again."""
        state, version = await self.base._existing(suggestion_id)
        events = tagging.decide_retag(
            state,
            await self.tags_of(suggestion_id),
            await self.base._actor(actor_id),
            command.tags,
            self.base.vocabulary,
        )
        if not events:
            return []  # the same tags again: nothing changes
        return await self.base.store.append(suggestion_stream(suggestion_id), version, events, ctx)


def tag_routes(handlers: TagHandlers) -> dict[type[BaseModel], Route]:
    """Which handler runs the tag command."""
    return {TagSuggestion: route(handlers.retag)}
