"""The rule a clock starts under, written into the event that starts it.

The decisions (:mod:`feedback.domain`, :mod:`feedback.intake`) say who holds a suggestion now;
the deadlines that holder has are the deadline policy's, at the moment of the append. They are
stamped here, on the way to the store, so that every event that starts a clock (raised,
received, escalated, reopened, rated and reopened, assigned to a department) carries the rule
and the deadlines it set, and every reader (the deadline shown, the warning, the scheduler,
a replay) reads them from the event rather than from the settings of the day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from escalation import DeadlinePolicy
from eventspine.events import DomainEvent
from feedback import events as ev


def stamp(
    events: Sequence[DomainEvent],
    policy: DeadlinePolicy,
    department_days: float | None,
    now: datetime,
) -> list[DomainEvent]:
    """``events`` with the deadlines of each clock they start, by the rule in force ``now``."""
    stamped: list[DomainEvent] = []
    for event in events:
        match event:
            case ev.SuggestionRaised() | ev.SuggestionReceived() | ev.SuggestionReopened():
                event = event.model_copy(update={"deadline": policy.start(event.holder_tier, now)})
            case ev.SuggestionRated():
                tier = event.holder_tier if event.reopened else None
                event = event.model_copy(update={"deadline": policy.start(tier, now)})
            case ev.SuggestionEscalated():
                event = event.model_copy(
                    update={"deadline": policy.start(event.to_holder_tier, now)}
                )
            case ev.SuggestionAssigned():
                event = event.model_copy(
                    update={"deadline": policy.start_department(department_days, now)}
                )
        stamped.append(event)
    return stamped
