"""Settings of the staff frontend, read from ``SANLIAN_WEB_*`` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-web-session-secret"


class WebSettings(BaseSettings):
    """Where the services answer (full topology) and how the session cookie is kept."""

    model_config = SettingsConfigDict(env_prefix="SANLIAN_WEB_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        "development", validation_alias="SANLIAN_ENVIRONMENT"
    )
    roster_url: str = "http://127.0.0.1:8001"
    contacts_url: str = "http://127.0.0.1:8002"
    feedback_url: str = "http://127.0.0.1:8003"
    reports_url: str = "http://127.0.0.1:8004"
    notify_url: str = "http://127.0.0.1:8005"
    audit_url: str | None = Field(
        None, description="a process serving GET /audit/history; without one, history is off"
    )
    session_secret: str = Field(
        DEVELOPMENT_SECRET, min_length=16, description="key of the encrypted session cookie"
    )
    session_hours: float = Field(8, gt=0, le=24 * 7)
    cookie_secure: bool = Field(False, description="send cookies over HTTPS only")
    timeout_seconds: float = Field(15, gt=0, le=300)
    # Workers on one factory's Wi-Fi share an address (NAT), so this is a flood guard, not a
    # per-person quota; behind a reverse proxy, run uvicorn with --proxy-headers so the
    # address is the client's, not the proxy's.
    intake_per_address: int = Field(
        20, ge=1, le=10_000, description="suggestions one client address may send per window"
    )
    intake_window_seconds: float = Field(600, gt=0, le=86_400)
    public_url: str | None = Field(
        None, description="the address workers' QR codes point at (default: the request's)"
    )

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> WebSettings:
        if self.environment == "production" and self.session_secret == DEVELOPMENT_SECRET:
            raise ValueError("SANLIAN_WEB_SESSION_SECRET must be set outside development")
        return self
