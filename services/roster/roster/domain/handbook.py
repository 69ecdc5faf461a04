"""The federation's handbook (工作手册): versioned text, each version an event."""

from __future__ import annotations

from dataclasses import dataclass

from eventspine.errors import StateConflictError
from eventspine.events import DomainEvent
from roster import commands as cmd
from roster import events as ev


@dataclass(frozen=True)
class Handbook:
    """The handbook in force: its version (0 before the first) and text."""

    version: int = 0
    text: str = ""
    note: str | None = None


def evolve_handbook(state: Handbook, event: DomainEvent) -> Handbook:
    """Apply a ``HandbookPublished``."""
    if isinstance(event, ev.HandbookPublished):
        return Handbook(event.version, event.text, event.note)
    return state


def decide_publish_handbook(state: Handbook, command: cmd.PublishHandbook) -> list[DomainEvent]:
    """The next version, unless it was edited from an older one or says nothing new."""
    if command.expected_version is not None and command.expected_version != state.version:
        raise StateConflictError(
            "expected_version",
            f"version {state.version} was published meanwhile; edit that one",
            code="handbook_version_stale",
        )
    if command.text == state.text:
        raise StateConflictError(
            "text", "the handbook already says this", code="handbook_unchanged"
        )
    return [ev.HandbookPublished(version=state.version + 1, text=command.text, note=command.note)]
