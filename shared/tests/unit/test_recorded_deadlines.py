"""The rule a clock started under, as the events record it: version 1 of every clock-starting
feedback event upcasts to "unrecorded" and then counts by the settings exactly as version 1
was read; a recorded rule counts as recorded whatever the policy says now."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from contracts.feedback import CATALOGUE
from escalation import DeadlineSettings, dump_recorded, load_recorded
from eventspine.events import EventRegistry

SHANGHAI = ZoneInfo("Asia/Shanghai")
SEALED = "v1.abc"


def registry() -> EventRegistry:
    found = EventRegistry()
    found.add_catalogue("feedback", CATALOGUE)
    return found


def beijing(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


def working() -> DeadlineSettings:
    return DeadlineSettings(
        _env_file=None, deadline_unit="working", deadline_unit_since=date(2026, 9, 30)
    )


def test_every_clock_starting_event_of_version_1_upcasts_to_unrecorded() -> None:
    sid, member = str(uuid.uuid4()), str(uuid.uuid4())
    held = {"holder_id": member, "holder_tier": "committee"}
    old: dict[str, dict[str, Any]] = {
        "SuggestionRaised": {
            "suggestion_id": sid,
            "raised_by": member,
            "category": "safety",
            "channel": "phone",
            "text": SEALED,
            "route": "upper_contact",
            **held,
        },
        "SuggestionEscalated": {
            "suggestion_id": sid,
            "level": 0,
            "reason": "deadline",
            "from_holder_id": member,
            "to_holder_id": member,
            "to_holder_tier": "committee",
            "route": "upper_contact",
        },
        "SuggestionReopened": {
            "suggestion_id": sid,
            "reopened_by": member,
            "reason": SEALED,
            "level": 1,
            **held,
        },
        "SuggestionAssigned": {
            "suggestion_id": sid,
            "assigned_by": member,
            "level": 2,
            "department": "training",
        },
    }
    found = registry()
    for name, data in old.items():
        event = found.decode(name, 1, data)
        assert (event.event_version, event.model_dump()["deadline"]) == (2, "unrecorded"), name
    rated = {"suggestion_id": sid, "rating": "satisfied", "rated_by": member, "level": 0, **held}
    closed = found.decode("SuggestionRated", 1, {**rated, "reopened": False})
    reopened = found.decode("SuggestionRated", 1, {**rated, "reopened": True})
    assert (closed.model_dump()["deadline"], reopened.model_dump()["deadline"]) == (
        None,
        "unrecorded",
    )


def test_unrecorded_counts_by_the_settings_and_recorded_by_its_rule() -> None:
    policy = working().deadline_policy()
    calendar = DeadlineSettings(_env_file=None).deadline_policy()
    started = beijing(9, 30)
    # Unrecorded: as version 1 was read, working days from the day they took effect.
    assert policy.recorded_due("held", "representative", started, "unrecorded") == (
        beijing(10, 10),
        "acknowledge",
    )
    assert policy.recorded_due("held", "representative", beijing(9, 29), "unrecorded") == (
        beijing(10, 2),
        "acknowledge",
    )
    # Recorded under working days, read under calendar days: still the working-day deadline.
    recorded = policy.start("representative", started)
    assert recorded is not None
    assert recorded.unit == "working"
    again = load_recorded(dump_recorded(recorded))
    assert calendar.recorded_due("held", "representative", started, again) == (
        beijing(10, 10),
        "acknowledge",
    )
    assert calendar.recorded_due("acknowledged", "representative", started, again) == (
        beijing(10, 15),  # 7 working days: 8, 9, 10 (a Saturday), 12 to 15 October
        "answer",
    )
    assert calendar.recorded_unit(started, again) == "working"
    # The top of the chain: none runs; a read model's row without a rule: unrecorded.
    assert policy.start(None, started) is None
    assert load_recorded(dump_recorded(None)) is None
    assert load_recorded(None) == "unrecorded"
