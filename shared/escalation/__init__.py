"""The deadlines of the suggestion-escalation chain, the one definition the feedback service
(which escalates) and the reports service (whose queue shows what is overdue) share."""

from escalation.deadlines import (
    DEFAULT_DEADLINES,
    Deadline,
    DeadlinePolicy,
    Deadlines,
    DeadlineSettings,
    DeadlineUnit,
    LevelDeadline,
    Recorded,
    dump_recorded,
    load_recorded,
)

__all__ = [
    "DEFAULT_DEADLINES",
    "Deadline",
    "DeadlinePolicy",
    "DeadlineSettings",
    "DeadlineUnit",
    "Deadlines",
    "LevelDeadline",
    "Recorded",
    "dump_recorded",
    "load_recorded",
]
