"""Per-key rate limits (GCRA), shared by every server process through PostgreSQL.

Several `tactful serve` processes answer the same keys, so a limit kept in process memory
would let a key through N times its rate. The state is one row per (key, bucket) in an
UNLOGGED table, updated by a single INSERT .. ON CONFLICT DO UPDATE in a short transaction of
its own (never the request's, which would hold the row lock for the whole request).

Headers follow the IETF draft "RateLimit header fields for HTTP": `RateLimit-Policy` names
the bucket with its quota `q` over window `w` seconds; `RateLimit` says what `r`emains and
in how many seconds `t` the quota is whole again. A refusal is 429 with `Retry-After`.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app import metrics
from app.config import RateLimit, Settings
from app.errors import TooManyRequests

DEFAULT_BUCKET = "default"

_GCRA = text(
    """
    WITH clock AS MATERIALIZED (SELECT clock_timestamp() AS now),
    attempt AS (
        INSERT INTO rate_limit_buckets AS b (tenant_id, key_id, bucket, tat)
        SELECT :tenant_id, :key_id, :bucket, now + make_interval(secs => :interval) FROM clock
        ON CONFLICT (tenant_id, key_id, bucket) DO UPDATE
        SET tat = greatest(b.tat, (SELECT now FROM clock)) + make_interval(secs => :interval)
        WHERE greatest(b.tat, (SELECT now FROM clock)) + make_interval(secs => :interval)
              <= (SELECT now FROM clock) + make_interval(secs => :window)
        RETURNING tat
    )
    SELECT clock.now, attempt.tat AS granted,
           (SELECT tat FROM rate_limit_buckets
            WHERE tenant_id = :tenant_id AND key_id = :key_id AND bucket = :bucket) AS previous
    FROM clock LEFT JOIN attempt ON true
    """
)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    bucket: str
    limit: RateLimit
    remaining: int
    reset_seconds: int
    retry_after_seconds: int

    def headers(self) -> dict[str, str]:
        window = math.ceil(self.limit.burst / self.limit.per_second)
        headers = {
            "RateLimit-Policy": f'"{self.bucket}";q={self.limit.burst};w={window}',
            "RateLimit": f'"{self.bucket}";r={self.remaining};t={self.reset_seconds}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


def bucket_for(settings: Settings, scopes: list[str]) -> tuple[str, RateLimit] | None:
    for scope in scopes:
        if scope in settings.rate_limits:
            return scope, settings.rate_limits[scope]
    if DEFAULT_BUCKET in settings.rate_limits:
        return DEFAULT_BUCKET, settings.rate_limits[DEFAULT_BUCKET]
    return None


def decide(
    bucket: str, limit: RateLimit, now: datetime, granted: datetime | None, previous: datetime
) -> Decision:
    interval = 1 / limit.per_second
    window = limit.burst * interval
    if granted is not None:
        ahead = (granted - now).total_seconds()
        remaining = max(0, math.floor((window - ahead) / interval + 1e-9))
        return Decision(True, bucket, limit, remaining, math.ceil(ahead), 0)
    ahead = (max(previous, now) - now).total_seconds()
    wait = ahead + interval - window
    return Decision(False, bucket, limit, 0, math.ceil(ahead), max(1, math.ceil(wait)))


async def take(
    session: AsyncSession, settings: Settings, tenant_id: int, key_id: int, scopes: list[str]
) -> dict[str, str]:
    """Take one request from the key's bucket for this route (its RateLimit headers), or
    refuse it with 429. The caller commits soon: the bucket's row stays locked until then."""
    chosen = bucket_for(settings, scopes) if settings.rate_limits_enabled else None
    if chosen is None:
        return {}
    bucket, limit = chosen
    interval = 1 / limit.per_second
    row = (
        await session.execute(
            _GCRA,
            {
                "tenant_id": tenant_id,
                "key_id": key_id,
                "bucket": bucket,
                "interval": interval,
                "window": limit.burst * interval,
            },
        )
    ).one()
    decision = decide(bucket, limit, row.now, row.granted, row.previous or row.now)
    if not decision.allowed:
        metrics.rate_limited.labels(bucket).inc()
        raise TooManyRequests(
            f"Too many requests for this API key; retry in {decision.retry_after_seconds} s.",
            headers=decision.headers(),
        )
    return decision.headers()
