"""Settings of every Sanlian process, read from ``SANLIAN_*`` environment variables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from eventspine.clock import FederationClock

LogFormat = Literal["console", "json"]


class Settings(BaseSettings):
    """One settings object per process; the composition root builds it once at start."""

    model_config = SettingsConfigDict(env_prefix="SANLIAN_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    store_backend: Literal["postgres", "sqlite"] = Field(
        "sqlite", description="postgres for the full topology, sqlite for the embedded default"
    )
    pg_dsn: str = "postgresql://sanlian:sanlian@127.0.0.1:5432/sanlian?sslmode=disable"
    pg_pool_size: int = Field(10, ge=1, le=100)
    pg_schema_prefix: str = Field(
        "", pattern=r"^[a-z0-9_]*$", description="prefix of the per-service schemas (tests use one)"
    )
    sqlite_dir: str = Field("var", description="folder of the embedded default's SQLite files")
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_client_id: str = "sanlian"
    topic_prefix: str = Field("sanlian", pattern=r"^[a-z][a-z0-9.\-]*$")
    topic_partitions: int = Field(3, ge=1, le=1000)
    topic_replication: int = Field(1, ge=1, le=10)
    topic_min_insync_replicas: int = Field(
        1,
        ge=1,
        le=10,
        description="replicas that must have a record before the broker acknowledges it "
        "(acks=all); 2 on a three-broker cluster, so one broker may die without a loss",
    )
    relay_batch_size: int = Field(500, ge=1, le=10_000)
    relay_idle_seconds: float = Field(0.05, gt=0, le=10)
    relay_ack_timeout_seconds: float = Field(60.0, gt=0, le=3600)
    api_docs_assets: str | None = Field(
        None, description="folder of Swagger UI for /docs (default: the pinned npm package)"
    )
    consumer_batch_size: int = Field(500, ge=1, le=10_000)
    index_secret: str = Field(
        "development-only-index-secret",
        min_length=16,
        description="key of the blind indexes over personal values (external numbers)",
    )
    auth_secret: str = Field(
        "development-only-auth-secret-change-me",
        min_length=32,
        description="key that signs and verifies access tokens; the same in every service",
    )
    token_minutes: int = Field(
        480, ge=1, le=7 * 24 * 60, description="how long a sign-in token is valid (a shift)"
    )
    login_max_failures: int = Field(
        5, ge=1, le=100, description="failed sign-ins of one username before it is throttled"
    )
    login_window_seconds: int = Field(
        900, ge=1, le=86_400, description="the window failed sign-ins are counted in"
    )
    timezone: str = Field(
        "Asia/Shanghai",
        description="the federation's time zone (IANA name): which day 'today' is for dates "
        "people enter, such as a contact's date",
    )
    max_body_bytes: int = Field(
        12 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="largest request body a service reads (a roster import is up to 10 MiB)",
    )
    span_leader: int = Field(5, ge=1, le=1000, description="default committee members per leader")
    span_committee: int = Field(5, ge=1, le=1000, description="default representatives each")
    span_representative: int = Field(10, ge=1, le=1000, description="default workers each")
    contact_minimum: int = Field(
        2, ge=1, le=52, description="contacts each link needs per period (the handbook: 2)"
    )
    contact_period_months: int = Field(12, description="12 (a year), 6 or 3")
    log_format: LogFormat | None = Field(
        None, description="json: one JSON object per log line; unset: as the launcher set it"
    )

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> Settings:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"SANLIAN_TIMEZONE: unknown time zone {self.timezone!r}") from None
        if self.contact_period_months not in (12, 6, 3):
            raise ValueError("SANLIAN_CONTACT_PERIOD_MONTHS must be 12, 6 or 3")
        if self.topic_min_insync_replicas > self.topic_replication:
            # No write could ever be acknowledged with acks=all.
            raise ValueError(
                "SANLIAN_TOPIC_MIN_INSYNC_REPLICAS must not exceed SANLIAN_TOPIC_REPLICATION"
            )
        if self.environment == "production" and "sanlian:sanlian@" in self.pg_dsn:
            raise ValueError("SANLIAN_PG_DSN still holds the development password")
        if self.environment == "production" and self.index_secret.startswith("development"):
            raise ValueError("SANLIAN_INDEX_SECRET must be set outside development")
        if self.environment != "development" and self.auth_secret.startswith("development"):
            raise ValueError("SANLIAN_AUTH_SECRET must be set outside development")
        return self

    def local_date(self, now: datetime) -> date:
        """The federation's date at the moment ``now`` (see :class:`FederationClock`)."""
        return FederationClock(zone=ZoneInfo(self.timezone)).date_at(now)

    def store_schema(self, service: str) -> str:
        """The PostgreSQL schema of a service's store: ``<prefix><service>``."""
        return f"{self.pg_schema_prefix}{service}"

    def topic(self, service: str) -> str:
        """The Kafka topic of a service's events: ``<prefix>.<service>.events``."""
        return f"{self.topic_prefix}.{service}.events"
