"""How long a holder at each level of the chain has to acknowledge and to answer a suggestion.

A level is named by its holder's tier (representative, committee, leader); the top of the
chain (the federation leadership as a whole) has no deadline, since nothing escalates further.
Set with ``SANLIAN_FEEDBACK_DEADLINES`` (JSON), for example::

    SANLIAN_FEEDBACK_DEADLINES='{"committee": {"acknowledge_days": 2, "answer_days": 7}}'

Both services read the same variable, so the queue's "overdue" is the scheduler's.

The days are calendar days by default; ``SANLIAN_FEEDBACK_DEADLINE_UNIT=working`` counts them in
working days by the official calendar (:mod:`escalation.workdays`). The unit is chosen by when
a level's clock started: ``SANLIAN_FEEDBACK_DEADLINE_UNIT_SINCE`` (a date in the federation's
time zone) is the day the unit takes effect, and a clock started before it keeps the other
unit. So a change of unit never moves the deadline of a suggestion already waiting, and every
service, and every replay of the events, computes the same deadline from the same settings.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.feedback import DepartmentDeadline, HolderDeadline, Unrecorded
from escalation import workdays

Deadline = Literal["acknowledge", "answer"]
DeadlineUnit = Literal["calendar", "working"]
Recorded = HolderDeadline | Unrecorded | None
"""A holder's deadline as a clock-starting event carries it (see :class:`HolderDeadline`)."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LevelDeadline:
    """Days to acknowledge and to answer, counted from the suggestion's arrival at a level."""

    acknowledge_days: float
    answer_days: float


@dataclass(frozen=True)
class DeadlinePolicy:
    """Deadlines per level, the level named by its holder's tier, and how their days count.

    ``unit`` applies to clocks started at or after ``since`` (always, if None); a clock started
    before ``since`` counts in the other unit, the one in force before the change.
    """

    levels: Mapping[str, LevelDeadline]
    unit: DeadlineUnit = "calendar"
    since: datetime | None = None
    zone: tzinfo = field(default=UTC)

    def unit_at(self, arrived_at: datetime) -> DeadlineUnit:
        """The unit of a clock that started at ``arrived_at``."""
        if self.since is None or arrived_at >= self.since:
            return self.unit
        return "working" if self.unit == "calendar" else "calendar"

    def after(
        self, arrived_at: datetime, days: float, unit: DeadlineUnit | None = None
    ) -> datetime:
        """The moment ``days`` days after ``arrived_at``, in ``unit`` (default: the unit of a
        clock started then).

        Working days keep the time of day in the federation's zone: arrived on the Wednesday
        before a holiday at 10:00, one working day is the first working day after it, 10:00.
        """
        if (unit or self.unit_at(arrived_at)) == "calendar":
            return arrived_at + timedelta(days=days)
        local = arrived_at.astimezone(self.zone)
        day = workdays.add_working_days(local.date(), round(days))
        moment = datetime.combine(day, local.time(), self.zone)
        return moment.astimezone(arrived_at.tzinfo or UTC)

    def warn_from(
        self,
        arrived_at: datetime,
        due_at: datetime,
        days: float,
        unit: DeadlineUnit | None = None,
    ) -> datetime:
        """From when to warn a holder ``days`` days before ``due_at``, in the clock's unit
        (``unit``, recorded with the clock; default: the unit of a clock started at
        ``arrived_at``): one working day before a deadline the morning after a holiday is the
        last day before it, not the holiday's last day."""
        if (unit or self.unit_at(arrived_at)) == "calendar":
            return due_at - timedelta(days=days)
        local = due_at.astimezone(self.zone)
        day = workdays.subtract_working_days(local.date(), max(1, round(days)))
        moment = datetime.combine(day, local.time(), self.zone)
        return moment.astimezone(due_at.tzinfo or UTC)

    def days_left(
        self,
        arrived_at: datetime,
        now: datetime,
        due_at: datetime,
        unit: DeadlineUnit | None = None,
    ) -> int:
        """Days from ``now`` to ``due_at`` in the clock's unit (``unit``, or that of a clock
        started at ``arrived_at``; working days: those after today up to the due day), as a
        reminder says them."""
        today, due_day = now.astimezone(self.zone).date(), due_at.astimezone(self.zone).date()
        if (unit or self.unit_at(arrived_at)) == "calendar":
            return (due_day - today).days
        return workdays.working_days_between(today, due_day)

    def due(
        self, status: str, holder_tier: str | None, arrived_at: datetime
    ) -> tuple[datetime, Deadline] | None:
        """When the holder's current deadline passes, and which one; None if none runs.

        The top of the chain (no holder tier) has nowhere to escalate to, and a suggestion that
        was answered, assigned or closed waits for someone else.
        """
        level = self.levels.get(holder_tier) if holder_tier else None
        if level is None:
            return None
        if status == "held":
            return self.after(arrived_at, level.acknowledge_days), "acknowledge"
        if status == "acknowledged":
            return self.after(arrived_at, level.answer_days), "answer"
        return None

    def start(self, holder_tier: str | None, now: datetime) -> HolderDeadline | None:
        """The deadlines of a holder's clock that starts ``now``, with the rule that sets them,
        for the event that starts it to carry; None at the top of the chain."""
        level = self.levels.get(holder_tier) if holder_tier else None
        if level is None:
            return None
        unit = self.unit_at(now)
        return HolderDeadline(
            unit=unit,
            acknowledge_days=level.acknowledge_days,
            answer_days=level.answer_days,
            acknowledge_by=self.after(now, level.acknowledge_days, unit),
            answer_by=self.after(now, level.answer_days, unit),
        )

    def start_department(self, days: float | None, now: datetime) -> DepartmentDeadline | None:
        """A department's deadline, ``days`` from ``now`` in the unit in force (None: none)."""
        if days is None:
            return None
        unit = self.unit_at(now)
        return DepartmentDeadline(unit=unit, days=days, due_by=self.after(now, days, unit))

    def recorded_due(
        self, status: str, holder_tier: str | None, arrived_at: datetime, recorded: Recorded
    ) -> tuple[datetime, Deadline] | None:
        """The holder's current deadline by the rule its clock started under: the one the
        event recorded, or for an event written before rules were recorded ("unrecorded"),
        the settings' rule for a clock started at ``arrived_at``, as it was read then."""
        if recorded == "unrecorded":
            return self.due(status, holder_tier, arrived_at)
        if recorded is None:
            return None
        # In the standard library's UTC (pydantic's own tzinfo is one other libraries, such
        # as the calendar feed's, do not know).
        if status == "held":
            return recorded.acknowledge_by.astimezone(UTC), "acknowledge"
        if status == "acknowledged":
            return recorded.answer_by.astimezone(UTC), "answer"
        return None

    def recorded_unit(self, arrived_at: datetime, recorded: Recorded) -> DeadlineUnit:
        """The unit of a clock as recorded (for "unrecorded": the settings' unit then)."""
        if isinstance(recorded, HolderDeadline):
            return recorded.unit
        return self.unit_at(arrived_at)


def dump_recorded(recorded: Recorded | DepartmentDeadline) -> str:
    """A recorded deadline as a read model keeps it (JSON text; "null" for none)."""
    if recorded is None:
        return "null"
    if isinstance(recorded, str):
        return '"unrecorded"'
    return recorded.model_dump_json()


def load_recorded(text: str | None) -> Recorded:
    """A holder's recorded deadline from a read model's text. A row without one (None) was
    projected before the rule was recorded: "unrecorded"."""
    if text is None or text == '"unrecorded"':
        return "unrecorded"
    if text == "null":
        return None
    return HolderDeadline.model_validate_json(text)


class Deadlines(BaseModel):
    """Days a holder at one level has to acknowledge, and to answer, after it arrived."""

    acknowledge_days: float = Field(gt=0, le=365)
    answer_days: float = Field(gt=0, le=365)

    @model_validator(mode="after")
    def _answer_after_acknowledge(self) -> Deadlines:
        if self.answer_days < self.acknowledge_days:
            raise ValueError("answer_days must not be shorter than acknowledge_days")
        return self


DEFAULT_DEADLINES = {
    "representative": Deadlines(acknowledge_days=3, answer_days=7),
    "committee": Deadlines(acknowledge_days=3, answer_days=10),
    "leader": Deadlines(acknowledge_days=5, answer_days=15),
}


class DeadlineSettings(BaseSettings):
    """The deadlines per level (``SANLIAN_FEEDBACK_DEADLINES``); a level left out keeps its
    default."""

    model_config = SettingsConfigDict(
        env_prefix="SANLIAN_FEEDBACK_", env_file=".env", extra="ignore", populate_by_name=True
    )

    deadlines: dict[str, Deadlines] = Field(
        default_factory=lambda: dict(DEFAULT_DEADLINES),
        description="per holder tier (representative, committee, leader): days to acknowledge "
        "and to answer; a tier left out keeps its default",
    )
    deadline_unit: DeadlineUnit = Field(
        "calendar",
        description="calendar: the deadlines' days are calendar days; working: working days by "
        "the official calendar (statutory holidays and make-up working days)",
    )
    deadline_unit_since: date | None = Field(
        None,
        description="the federation's date from which deadline_unit applies to a level's clock; "
        "clocks started before it keep the other unit (needed when deadline_unit is working)",
    )
    timezone: str = Field(
        "Asia/Shanghai",
        validation_alias="SANLIAN_TIMEZONE",
        description="the federation's time zone (SANLIAN_TIMEZONE): which day a working day is",
    )

    @model_validator(mode="after")
    def _known_levels(self) -> DeadlineSettings:
        unknown = set(self.deadlines) - set(DEFAULT_DEADLINES)
        if unknown:
            raise ValueError(f"deadlines for unknown levels: {sorted(unknown)}")
        self.deadlines = {**DEFAULT_DEADLINES, **self.deadlines}
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"SANLIAN_TIMEZONE: unknown time zone {self.timezone!r}") from None
        if self.deadline_unit == "working" and self.deadline_unit_since is None:
            # Without the date, every waiting suggestion's deadline would move at once.
            raise ValueError(
                "SANLIAN_FEEDBACK_DEADLINE_UNIT_SINCE is needed with deadline_unit=working: the "
                "date from which new clocks count working days (earlier ones keep calendar days)"
            )
        if self.deadline_unit == "working" or self.deadline_unit_since is not None:
            for tier, d in self.deadlines.items():
                if d.acknowledge_days % 1 or d.answer_days % 1:
                    raise ValueError(f"deadlines.{tier}: working days must be whole numbers")
        return self

    def deadline_policy(self) -> DeadlinePolicy:
        """The deadlines as the domain uses them; warns (log) when working days are in use and
        the official calendar runs out within two months."""
        zone = ZoneInfo(self.timezone)
        since = self.deadline_unit_since
        if self.deadline_unit == "working" or since is not None:
            warning = workdays.coverage_warning(datetime.now(zone).date())
            if warning:
                log.warning(warning)
        return DeadlinePolicy(
            {
                tier: LevelDeadline(d.acknowledge_days, d.answer_days)
                for tier, d in self.deadlines.items()
            },
            unit=self.deadline_unit,
            since=None if since is None else datetime.combine(since, time(), zone),
            zone=zone,
        )
