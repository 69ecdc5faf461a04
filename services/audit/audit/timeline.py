"""Selecting events: one member's, one link's or one suggestion's timeline, a date range.

Events name members, links and suggestions by id in their data (personal data is sealed), so
"about this member" means: the id appears as a value anywhere in the event's data, or in its
stream id. A link is the ``MemberAssigned`` event that created it, the contacts logged on it
(``link_id``), their corrections and retractions (``contact_id``), and the unassignment that
ended it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from eventspine.envelope import RecordedEvent


def _mentions(value: Any, needle: str) -> bool:
    if isinstance(value, str):
        return value == needle
    if isinstance(value, dict):
        return any(_mentions(item, needle) for item in value.values())
    if isinstance(value, list):
        return any(_mentions(item, needle) for item in value)
    return False


def ordered(events: Iterable[RecordedEvent]) -> list[RecordedEvent]:
    """Events in time order; ties broken by service and position (deterministic)."""
    return sorted(events, key=lambda e: (e.time, e.service, e.position))


def about_member(events: Iterable[RecordedEvent], member_id: str) -> list[RecordedEvent]:
    """Every event naming the member (as subject, upper, lower, raiser, holder...)."""
    return ordered(e for e in events if member_id in e.stream_id or _mentions(e.data, member_id))


def about_suggestion(events: Iterable[RecordedEvent], suggestion_id: str) -> list[RecordedEvent]:
    """Every event of the suggestion."""
    return ordered(e for e in events if e.data.get("suggestion_id") == suggestion_id)


def about_link(events: Iterable[RecordedEvent], link_id: str) -> list[RecordedEvent]:
    """The link's assignment, its contacts (with corrections, retractions) and its end."""
    events = list(events)
    created = next((e for e in events if str(e.id) == link_id), None)
    contacts = {e.data.get("contact_id") for e in events if e.data.get("link_id") == link_id} - {
        None
    }
    chosen = [
        e
        for e in events
        if e is created or e.data.get("link_id") == link_id or e.data.get("contact_id") in contacts
    ]
    if created is not None:  # the link ends at the pair's first unassignment after it began
        ended = next(
            (
                e
                for e in events
                if e.event_type == "MemberUnassigned"
                and e.service == created.service
                and e.position > created.position
                and e.data.get("member_id") == created.data.get("member_id")
                and e.data.get("upper_member_id") == created.data.get("upper_member_id")
            ),
            None,
        )
        if ended is not None:
            chosen.append(ended)
    return ordered(chosen)


def in_range(
    events: Iterable[RecordedEvent], start: datetime | None, end: datetime | None
) -> list[RecordedEvent]:
    """Events with ``start <= time <= end`` (either bound optional), in time order."""
    return ordered(
        e for e in events if (start is None or e.time >= start) and (end is None or e.time <= end)
    )
