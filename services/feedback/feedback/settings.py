"""Settings of the feedback service: deadlines per level (calendar or working days), departments,
the scheduler.

Read from ``SANLIAN_FEEDBACK_*`` environment variables (or ``.env``), beside the platform's
``SANLIAN_*`` settings. Complex values are JSON, for example::

    SANLIAN_FEEDBACK_DEADLINES='{"committee": {"acknowledge_days": 2, "answer_days": 7}}'
    SANLIAN_FEEDBACK_DEPARTMENTS='{"rights": "权益保障部", "training": "宣教部"}'

The deadlines are the shared :mod:`escalation` settings (the reports service reads the same).
"""

from __future__ import annotations

import re

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from escalation import DeadlineSettings

DEPARTMENT_CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")  # as in the events' department field
# Stable codes (they appear in events); names are what people read.
DEFAULT_DEPARTMENTS = {
    "rights": "权益保障部",
    "organisation": "组织部",
    "training": "宣教部",
    "funds_audit": "经费审查委员会办公室",
    "women_workers": "女职工部",
}


class FeedbackSettings(DeadlineSettings):
    """The feedback service's own settings (``SANLIAN_FEEDBACK_*``)."""

    model_config = SettingsConfigDict(
        env_prefix="SANLIAN_FEEDBACK_", env_file=".env", extra="ignore"
    )

    departments: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_DEPARTMENTS),
        description="federation departments a suggestion can be assigned to: code -> name",
    )
    tags_file: str | None = Field(
        None,
        description="the federation's tags (TOML, as feedback/tags.toml); unset: that file",
    )
    scheduler_enabled: bool = Field(True, description="run the deadline scheduler in the app")
    scheduler_interval_seconds: float = Field(60.0, gt=0, le=86_400)
    replica_wait_seconds: float = Field(
        2.0, ge=0, le=60, description="how long a command waits for the roster replica"
    )

    department_days: float | None = Field(
        15, gt=0, le=365, description="days a department has for its outcome (null: no deadline)"
    )
    intake_per_link_per_hour: int = Field(
        30, ge=1, le=10_000, description="suggestions one intake link takes per hour at most"
    )
    intake_duplicate_hours: float = Field(
        24, ge=0, le=24 * 90, description="the same text by the same link is refused this long"
    )

    @model_validator(mode="after")
    def _known_codes(self) -> FeedbackSettings:
        for code in self.departments:
            if not DEPARTMENT_CODE.fullmatch(code):
                raise ValueError(f"department code {code!r}: lowercase letters, digits and _")
        if not self.departments:
            raise ValueError("at least one department is needed")
        return self
