"""How long a holder at each level of the chain has to acknowledge and to answer a suggestion.

A level is named by its holder's tier (representative, committee, leader); the top of the
chain (the federation leadership as a whole) has no deadline, since nothing escalates further.
Set with ``SANLIAN_FEEDBACK_DEADLINES`` (JSON), for example::

    SANLIAN_FEEDBACK_DEADLINES='{"committee": {"acknowledge_days": 2, "answer_days": 7}}'

Both services read the same variable, so the queue's "overdue" is the scheduler's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Deadline = Literal["acknowledge", "answer"]


@dataclass(frozen=True)
class LevelDeadline:
    """Days to acknowledge and to answer, counted from the suggestion's arrival at a level."""

    acknowledge_days: float
    answer_days: float


@dataclass(frozen=True)
class DeadlinePolicy:
    """Deadlines per level, the level named by its holder's tier."""

    levels: Mapping[str, LevelDeadline]

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
            return arrived_at + timedelta(days=level.acknowledge_days), "acknowledge"
        if status == "acknowledged":
            return arrived_at + timedelta(days=level.answer_days), "answer"
        return None


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
        env_prefix="SANLIAN_FEEDBACK_", env_file=".env", extra="ignore"
    )

    deadlines: dict[str, Deadlines] = Field(
        default_factory=lambda: dict(DEFAULT_DEADLINES),
        description="per holder tier (representative, committee, leader): days to acknowledge "
        "and to answer; a tier left out keeps its default",
    )

    @model_validator(mode="after")
    def _known_levels(self) -> DeadlineSettings:
        unknown = set(self.deadlines) - set(DEFAULT_DEADLINES)
        if unknown:
            raise ValueError(f"deadlines for unknown levels: {sorted(unknown)}")
        self.deadlines = {**DEFAULT_DEADLINES, **self.deadlines}
        return self

    def deadline_policy(self) -> DeadlinePolicy:
        """The deadlines as the domain uses them."""
        return DeadlinePolicy(
            {
                tier: LevelDeadline(d.acknowledge_days, d.answer_days)
                for tier, d in self.deadlines.items()
            }
        )
