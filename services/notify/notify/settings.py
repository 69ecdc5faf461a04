"""Settings of the notify service (``SANLIAN_NOTIFY_*``), beside the platform's ``SANLIAN_*``.

The federation sets the cadence of the contacts-due digests and its quiet hours; the SMTP
server is the installation's. For example::

    SANLIAN_NOTIFY_DIGEST_DAY=1              # a digest on the 1st of every month
    SANLIAN_NOTIFY_FINAL_MONTH_WEEKDAY=0     # and every Monday in the period's last month
    SANLIAN_NOTIFY_QUIET_START=22:00 SANLIAN_NOTIFY_QUIET_END=07:00
    SANLIAN_NOTIFY_SMTP_HOST=smtp.example.org SANLIAN_NOTIFY_SMTP_PORT=587
"""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    """The notify service's own settings."""

    model_config = SettingsConfigDict(env_prefix="SANLIAN_NOTIFY_", env_file=".env", extra="ignore")

    digest_day: int = Field(1, ge=1, le=28, description="day of each month a digest is due")
    final_month_weekday: int | None = Field(
        0,
        ge=0,
        le=6,
        description="weekday (0 Monday) of the weekly digests in a period's last "
        "month; empty for none",
    )
    overdue_notices: bool = Field(True, description="tell the upper member when a link is overdue")
    quiet_start: time = Field(time(22, 0), description="no sends from (SANLIAN_TIMEZONE)")
    quiet_end: time = Field(time(7, 0), description="until")
    deadline_warning_days: float = Field(
        1.0,
        gt=0,
        le=30,
        description="warn a suggestion's holder this long before its deadline (working days "
        "when the deadlines count them)",
    )
    scheduler_enabled: bool = Field(True, description="run the scheduler and sender in the app")
    scheduler_interval_seconds: float = Field(30.0, gt=0, le=86_400)
    smtp_host: str | None = Field(None, description="no host: no email is sent")
    smtp_port: int = Field(25, ge=1, le=65_535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(10.0, gt=0, le=300)
    mail_from: str = Field("sanlian@localhost", description="the From address of the emails")
    roster_url: str | None = Field(
        None, description="the roster service notify asks for the names it shows (full topology)"
    )
    frontend_url: str = Field("http://127.0.0.1:8000", description="links in emails point here")
    retry_base_seconds: float = Field(5.0, gt=0, le=3600, description="first retry's delay")
    retry_max_seconds: float = Field(900.0, gt=0, le=86_400, description="longest retry delay")
    max_attempts: int = Field(12, ge=1, le=100, description="then the failure is permanent")
    in_doubt: Literal["resend", "hold"] = Field(
        "resend",
        description="an email whose send was cut off after its data was handed to the SMTP "
        "server, before the outcome was recorded: resend (again, under the same Message-ID) or "
        "hold (recorded as failed for good, for staff to look at: never twice)",
    )

    @model_validator(mode="after")
    def _quiet_hours(self) -> NotifySettings:
        if self.quiet_start == self.quiet_end:
            raise ValueError("quiet_start and quiet_end must differ (use 00:00-00:01 for none)")
        return self
