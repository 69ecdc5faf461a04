"""Handlers of the departments that act: appoint and release a department's members, take a
suggestion up for the department (the outcome is :meth:`FeedbackHandlers.resolve`)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

from eventspine.envelope import RecordedEvent
from eventspine.store.base import CommandContext
from feedback import departments as dep
from feedback.commands import Command
from feedback.handlers import FeedbackHandlers, suggestion_stream
from servicekit.commands import Route, route


class AppointDepartmentMember(Command):
    """Appoint a member to act for a federation department (a leadership member does)."""

    member_id: UUID = Field(description="the member who acts for the department")


class ReleaseDepartmentMember(Command):
    """A member no longer acts for the department."""


class TakeUpSuggestion(Command):
    """Take up, for your department, a suggestion assigned to it."""


class DepartmentHandlers:
    """Handles the department commands."""

    def __init__(self, base: FeedbackHandlers) -> None:
        self.base = base

    async def appoint(
        self,
        command: AppointDepartmentMember,
        ctx: CommandContext,
        *,
        code: str,
        actor_id: UUID,
    ) -> list[RecordedEvent]:
        """A leadership member appoints a member to the department."""
        state, version = await dep.load(self.base.store, code)
        actor = await self.base._actor(actor_id)
        member = await self.base._member(command.member_id, must_exist=False)
        events = dep.decide_appoint(state, code, actor, member, self.base.departments)
        return await self.base.store.append(dep.department_stream(code), version, events, ctx)

    async def release(
        self,
        command: ReleaseDepartmentMember,
        ctx: CommandContext,
        *,
        code: str,
        member_id: UUID,
        actor_id: UUID,
    ) -> list[RecordedEvent]:
        """A leadership member releases a member from the department."""
        state, version = await dep.load(self.base.store, code)
        events = dep.decide_release(state, code, await self.base._actor(actor_id), member_id)
        return await self.base.store.append(dep.department_stream(code), version, events, ctx)

    async def take_up(
        self,
        command: TakeUpSuggestion,
        ctx: CommandContext,
        *,
        suggestion_id: UUID,
        actor_id: UUID,
    ) -> list[RecordedEvent]:
        """A member of the department it is assigned to takes the suggestion up."""
        state, version = await self.base._existing(suggestion_id)
        members, _ = await dep.load(self.base.store, state.department or "")
        events = dep.decide_take_up(state, await self.base._actor(actor_id), members)
        return await self.base.store.append(suggestion_stream(suggestion_id), version, events, ctx)


def department_routes(handlers: DepartmentHandlers) -> dict[type[BaseModel], Route]:
    """Which handler runs each department command."""
    return {
        AppointDepartmentMember: route(handlers.appoint),
        ReleaseDepartmentMember: route(handlers.release),
        TakeUpSuggestion: route(handlers.take_up),
    }
