"""An evaluation's own rows: the accounts whose decision changed, and every evaluated
account's schedule (next evaluation, last evaluation, policy version) — one statement each."""

import functools
import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_UPDATE_ACCOUNTS = text(
    """
    UPDATE accounts AS a SET
        tier = u.tier,
        tier_score = u.score,
        tier_reasons = CAST(u.reasons AS jsonb),
        stage = COALESCE(u.stage, a.stage),
        stage_entered_at = CASE WHEN u.stage IS NULL THEN a.stage_entered_at ELSE :now END
    FROM unnest(
        CAST(:ids AS bigint[]), CAST(:tiers AS text[]), CAST(:scores AS int[]),
        CAST(:reasons AS text[]), CAST(:stages AS text[])
    ) AS u(id, tier, score, reasons, stage)
    WHERE a.tenant_id = :tenant_id AND a.id = u.id
    """
)
_RECORD_SCHEDULE = text(
    """
    INSERT INTO evaluation_schedule AS s
        (tenant_id, account_id, next_evaluation_at, evaluated_at, policy_version)
    SELECT :tenant_id, u.id, u.next_at, :now, :version
    FROM unnest(CAST(:ids AS bigint[]), CAST(:next_at AS timestamptz[])) AS u(id, next_at)
    ON CONFLICT (tenant_id, account_id) DO UPDATE SET
        next_evaluation_at = EXCLUDED.next_evaluation_at,
        evaluated_at = EXCLUDED.evaluated_at,
        policy_version = EXCLUDED.policy_version
    """
)


@functools.lru_cache(maxsize=1024)
def json_of(reasons: tuple[str, ...]) -> str:
    """A portfolio has few distinct rule lists: each is serialised once (as jsonb prints it,
    so a stored list compares equal as text)."""
    return json.dumps(list(reasons))


async def update_accounts(
    session: AsyncSession, tenant_id: int, now: datetime, rows: list[dict[str, Any]]
) -> None:
    """Tier, score, reasons and (when it advanced) stage of the accounts whose decision
    changed any of them."""
    if not rows:
        return
    await session.execute(
        _UPDATE_ACCOUNTS,
        {
            "tenant_id": tenant_id,
            "now": now,
            "ids": [row["id"] for row in rows],
            "tiers": [row["tier"] for row in rows],
            "scores": [row["tier_score"] for row in rows],
            "reasons": [json_of(row["tier_reasons"]) for row in rows],
            "stages": [row.get("stage") for row in rows],
        },
    )


async def record_schedule(
    session: AsyncSession,
    tenant_id: int,
    version: int,
    now: datetime,
    rows: list[tuple[int, datetime | None]],
) -> None:
    """Every evaluated account: evaluated at `now` under `version`, next at its time."""
    if not rows:
        return
    params = {
        "tenant_id": tenant_id,
        "now": now,
        "version": version,
        "ids": [account_id for account_id, _ in rows],
        "next_at": [next_at for _, next_at in rows],
    }
    await session.execute(_RECORD_SCHEDULE, params)
