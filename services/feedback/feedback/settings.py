"""Settings of the feedback service: deadlines per level, departments, the scheduler.

Read from ``SANLIAN_FEEDBACK_*`` environment variables (or ``.env``), beside the platform's
``SANLIAN_*`` settings. Complex values are JSON, for example::

    SANLIAN_FEEDBACK_DEADLINES='{"committee": {"acknowledge_days": 2, "answer_days": 7}}'
    SANLIAN_FEEDBACK_DEPARTMENTS='{"rights": "权益保障部", "training": "宣教部"}'

A level of the chain is named by its holder's tier; ``federation`` is the top (the federation
leadership as a whole), where nothing escalates further.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from feedback.domain import DeadlinePolicy, LevelDeadline


class Deadlines(BaseModel):
    """Days a holder at one level has to acknowledge, and to answer, after it arrived."""

    acknowledge_days: float = Field(gt=0, le=365)
    answer_days: float = Field(gt=0, le=365)

    @model_validator(mode="after")
    def _answer_after_acknowledge(self) -> Deadlines:
        if self.answer_days < self.acknowledge_days:
            raise ValueError("answer_days must not be shorter than acknowledge_days")
        return self


DEPARTMENT_CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")  # as in the events' department field
DEFAULT_DEADLINES = {
    "representative": Deadlines(acknowledge_days=3, answer_days=7),
    "committee": Deadlines(acknowledge_days=3, answer_days=10),
    "leader": Deadlines(acknowledge_days=5, answer_days=15),
}
# Stable codes (they appear in events); names are what people read.
DEFAULT_DEPARTMENTS = {
    "rights": "权益保障部",
    "organisation": "组织部",
    "training": "宣教部",
    "funds_audit": "经费审查委员会办公室",
    "women_workers": "女职工部",
}


class FeedbackSettings(BaseSettings):
    """The feedback service's own settings (``SANLIAN_FEEDBACK_*``)."""

    model_config = SettingsConfigDict(
        env_prefix="SANLIAN_FEEDBACK_", env_file=".env", extra="ignore"
    )

    deadlines: dict[str, Deadlines] = Field(
        default_factory=lambda: dict(DEFAULT_DEADLINES),
        description="per holder tier (representative, committee, leader): days to acknowledge "
        "and to answer; a tier left out keeps its default",
    )
    departments: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_DEPARTMENTS),
        description="federation departments a suggestion can be assigned to: code -> name",
    )
    scheduler_enabled: bool = Field(True, description="run the deadline scheduler in the app")
    scheduler_interval_seconds: float = Field(60.0, gt=0, le=86_400)
    replica_wait_seconds: float = Field(
        2.0, ge=0, le=60, description="how long a command waits for the roster replica"
    )

    @model_validator(mode="after")
    def _known_levels_and_codes(self) -> FeedbackSettings:
        unknown = set(self.deadlines) - set(DEFAULT_DEADLINES)
        if unknown:
            raise ValueError(f"deadlines for unknown levels: {sorted(unknown)}")
        self.deadlines = {**DEFAULT_DEADLINES, **self.deadlines}
        for code in self.departments:
            if not DEPARTMENT_CODE.fullmatch(code):
                raise ValueError(f"department code {code!r}: lowercase letters, digits and _")
        if not self.departments:
            raise ValueError("at least one department is needed")
        return self

    def deadline_policy(self) -> DeadlinePolicy:
        """The deadlines as the domain uses them."""
        return DeadlinePolicy(
            {
                tier: LevelDeadline(d.acknowledge_days, d.answer_days)
                for tier, d in self.deadlines.items()
            }
        )
