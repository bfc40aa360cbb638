"""Settings, read only from the environment (see the README's table)."""

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RateLimit(BaseModel):
    """A sustained rate with a burst allowance (GCRA): `burst` requests at once, then one
    every 1/per_second seconds."""

    per_second: float = Field(gt=0)
    burst: int = Field(ge=1, le=100_000)


def _default_rate_limits() -> dict[str, RateLimit]:
    return {
        "default": RateLimit(per_second=50, burst=100),
        "events:write": RateLimit(per_second=20, burst=40),
    }


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TACTFUL_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "TACTFUL_DATABASE_URL")
    )
    database_read_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_READ_URL", "TACTFUL_DATABASE_READ_URL"),
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path(".data")
    log_level: str = "INFO"
    evaluator_interval_seconds: float = Field(default=60.0, gt=0)
    evaluator_enabled: bool = True
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_concurrency: int = Field(default=8, ge=1, le=1000)
    webhooks_enabled: bool = Field(
        default=True, description="Run the webhook delivery worker inside `tactful serve`."
    )
    report_summaries_enabled: bool = Field(
        default=True,
        description="Keep the portfolio report's summaries fresh inside `tactful serve`.",
    )
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    db_statement_timeout_ms: int = Field(default=30_000, ge=100)
    db_idle_in_transaction_timeout_ms: int = Field(default=60_000, ge=100)
    rate_limits_enabled: bool = True
    rate_limits: dict[str, RateLimit] = Field(
        default_factory=_default_rate_limits,
        description="Per key and scope; 'default' covers scopes not named.",
    )
    cors_origins: list[str] = Field(default_factory=list)
    shutdown_grace_seconds: float = Field(default=20.0, gt=0)
    bootstrap_demo: bool = Field(
        default=True, description="On an embedded database's first start, create a demo tenant."
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()


def async_database_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and point SQLAlchemy at asyncpg."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")
