"""The work queue's SQL. Every statement is set-based; a claim touches only the rows it
hands out (plus the few it refuses), never the portfolio."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.bulk import insert_unnest
from app.models import ContactBlock, DialerLease

EXPIRED_PER_CLAIM = 500


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    account_id: int
    account_ref: str
    debtor_id: int
    contact_id: uuid.UUID
    address: str
    relationship: str
    purpose: str
    priority: int
    tier: str | None
    stage: str | None
    jurisdiction: str


@dataclass(frozen=True, slots=True)
class ClaimScope:
    """Which ready rows a claim may take: the caller's filters, key and agent."""

    tiers: Sequence[str] | None
    stages: Sequence[str] | None
    partner: str | None  # the filter's, or the key's when it is bound to one
    key_partner: str | None
    agent: str | None


# Expired leases go back to the pool (their next lease gets a new id). Locked with SKIP LOCKED
# in a MATERIALIZED CTE so each row is visited once and concurrent claimers never wait.
_RETURN_EXPIRED = text(
    """
    WITH expired AS MATERIALIZED (
        SELECT id FROM dialer_tasks
        WHERE tenant_id = :tenant_id AND state = 'leased' AND lease_expires_at <= :now
        ORDER BY lease_expires_at
        LIMIT :batch
        FOR UPDATE SKIP LOCKED
    )
    UPDATE dialer_tasks AS d
    SET state = 'ready', lease_id = NULL, lease_expires_at = NULL, updated_at = :now
    FROM expired
    WHERE d.tenant_id = :tenant_id AND d.id = expired.id
    """
)


def _candidates_sql(scope: ClaimScope, excluding: bool) -> tuple[str, dict[str, Any]]:
    """The claim: a range scan of the partial index on ready rows in priority order.

    The locking SELECT sits in a MATERIALIZED CTE and the outer query joins it: written as
    `WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` the planner may run the
    subquery more than once (e.g. as the inner side of a semi-join), locking more rows than
    `n` and handing out rows the caller never sees (the pitfall river and oban document).
    """
    where = [
        "tenant_id = :tenant_id",
        "state = 'ready'",
        "eligible_at <= :now",
        # `reassigned` work goes only to a named agent who never held the account.
        "(stage IS DISTINCT FROM 'reassigned' OR "
        "(CAST(:agent AS text) IS NOT NULL AND NOT (CAST(:agent AS text) = ANY(excluded_agents))))",
        # `external` work goes only to keys bound to the account's partner.
        "(stage IS DISTINCT FROM 'external' OR "
        "(partner IS NOT NULL AND partner = CAST(:key_partner AS text)))",
    ]
    params: dict[str, Any] = {"agent": scope.agent, "key_partner": scope.key_partner}
    if scope.tiers:
        where.append("tier = ANY(CAST(:tiers AS text[]))")
        params["tiers"] = list(scope.tiers)
    if scope.stages:
        where.append("stage = ANY(CAST(:stages AS text[]))")
        params["stages"] = list(scope.stages)
    if excluding:
        where.append("id <> ALL(CAST(:seen AS bigint[]))")
    if scope.partner is not None:
        where.append("partner = :partner")
        params["partner"] = scope.partner
    sql = f"""
        WITH picked AS MATERIALIZED (
            SELECT id FROM dialer_tasks
            WHERE {" AND ".join(where)}
            ORDER BY priority DESC, eligible_at
            LIMIT :limit
            FOR UPDATE SKIP LOCKED
        )
        SELECT d.id, d.account_id, a.ref AS account_ref, d.debtor_id, d.contact_id,
               c.value AS address, c.relationship, d.purpose, d.priority, d.tier, d.stage,
               a.jurisdiction
        FROM picked
        JOIN dialer_tasks AS d ON d.tenant_id = :tenant_id AND d.id = picked.id
        JOIN accounts AS a ON a.tenant_id = :tenant_id AND a.id = d.account_id
        JOIN contacts AS c ON c.tenant_id = :tenant_id AND c.id = d.contact_id
        ORDER BY d.priority DESC, d.eligible_at
    """  # noqa: S608 - only fixed fragments; values are bound
    return sql, params


# One live lease per debtor: a transaction-scoped advisory lock per debtor keeps concurrent
# claimers apart between the check below and the commit.
_LOCK_DEBTORS = text(
    """
    SELECT d FROM unnest(CAST(:debtors AS bigint[])) AS d
    WHERE pg_try_advisory_xact_lock(
        hashtextextended('dialer-debtor:' || CAST(:tenant_id AS bigint) || ':' || d, 0)
    )
    """
)
_DEBTORS_WITH_LIVE_LEASE = text(
    """
    SELECT DISTINCT debtor_id FROM dialer_tasks
    WHERE tenant_id = :tenant_id AND state = 'leased' AND lease_expires_at > :now
      AND debtor_id = ANY(CAST(:debtors AS bigint[]))
    """
)
_LEASE = text(
    """
    UPDATE dialer_tasks AS d
    SET state = 'leased', lease_id = u.lease_id, lease_expires_at = :expires_at, updated_at = :now
    FROM unnest(CAST(:ids AS bigint[]), CAST(:lease_ids AS uuid[])) AS u(id, lease_id)
    WHERE d.tenant_id = :tenant_id AND d.id = u.id AND d.state = 'ready'
    RETURNING d.id
    """
)
_POSTPONE = text(
    """
    UPDATE dialer_tasks AS d
    SET eligible_at = COALESCE(u.eligible_at, d.eligible_at),
        state = CASE WHEN u.eligible_at IS NULL THEN 'done' ELSE d.state END,
        updated_at = :now
    FROM unnest(CAST(:ids AS bigint[]), CAST(:eligible AS timestamptz[])) AS u(id, eligible_at)
    WHERE d.tenant_id = :tenant_id AND d.id = u.id AND d.state = 'ready'
    """
)


class QueueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def return_expired(self, tenant_id: int, now: datetime) -> None:
        await self.session.execute(
            _RETURN_EXPIRED, {"tenant_id": tenant_id, "now": now, "batch": EXPIRED_PER_CLAIM}
        )

    async def pick(
        self, tenant_id: int, scope: ClaimScope, now: datetime, limit: int, exclude: set[int]
    ) -> list[Candidate]:
        """Lock up to `limit` ready rows in claim order (rows this transaction already looked
        at in `exclude`: its own locks do not make SKIP LOCKED pass them)."""
        sql, params = _candidates_sql(scope, bool(exclude))
        params |= {"tenant_id": tenant_id, "now": now, "limit": limit}
        if exclude:
            params["seen"] = sorted(exclude)
        rows = await self.session.execute(text(sql), params)
        return [Candidate(**row._mapping) for row in rows]

    async def lock_free_debtors(self, tenant_id: int, debtors: set[int], now: datetime) -> set[int]:
        """The debtors this claim may lease to: locked here, with no live lease elsewhere."""
        if not debtors:
            return set()
        params = {"tenant_id": tenant_id, "debtors": sorted(debtors)}
        locked = set((await self.session.scalars(_LOCK_DEBTORS, params)).all())
        if not locked:
            return set()
        # A new statement, so a new snapshot: leases committed before our locks are seen.
        params = {"tenant_id": tenant_id, "now": now, "debtors": sorted(locked)}
        busy = set((await self.session.scalars(_DEBTORS_WITH_LIVE_LEASE, params)).all())
        return locked - busy

    async def lease(
        self,
        tenant_id: int,
        leases: list[tuple[Candidate, uuid.UUID]],
        *,
        key_id: int,
        agent: str | None,
        now: datetime,
        expires_at: datetime,
    ) -> list[tuple[Candidate, uuid.UUID]]:
        """Lease the rows (still ready and locked by this claim); returns those leased."""
        if not leases:
            return []
        updated = await self.session.scalars(
            _LEASE,
            {
                "tenant_id": tenant_id,
                "now": now,
                "expires_at": expires_at,
                "ids": [c.id for c, _ in leases],
                "lease_ids": [lease_id for _, lease_id in leases],
            },
        )
        taken = set(updated.all())
        leases = [(c, lease_id) for c, lease_id in leases if c.id in taken]
        rows = [
            {
                "tenant_id": tenant_id,
                "id": lease_id,
                "task_row_id": c.id,
                "account_id": c.account_id,
                "debtor_id": c.debtor_id,
                "contact_id": c.contact_id,
                "purpose": c.purpose,
                "key_id": key_id,
                "agent": agent,
                "leased_at": now,
                "expires_at": expires_at,
            }
            for c, lease_id in leases
        ]
        await insert_unnest(self.session, DialerLease.__table__, rows)  # type: ignore[arg-type]
        return leases

    async def refuse(
        self,
        tenant_id: int,
        refused: list[tuple[Candidate, datetime | None, Sequence[str]]],
        now: datetime,
    ) -> None:
        """Count each refusal by rule and move the task to when the rules next allow it (or
        close it when they never will)."""
        if not refused:
            return
        await self.session.execute(
            _POSTPONE,
            {
                "tenant_id": tenant_id,
                "now": now,
                "ids": [c.id for c, _, _ in refused],
                "eligible": [next_at for _, next_at, _ in refused],
            },
        )
        blocks = [
            {
                "tenant_id": tenant_id,
                "blocked_at": now,
                "account_id": c.account_id,
                "contact_id": c.contact_id,
                "jurisdiction": c.jurisdiction,
                "rule": rule,
            }
            for c, _, rules in refused
            for rule in rules
        ]
        await insert_unnest(self.session, ContactBlock.__table__, blocks)  # type: ignore[arg-type]
