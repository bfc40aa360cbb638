"""The work queue's SQL. Every statement is set-based; a claim touches only the rows it
hands out (plus the few it refuses), never the portfolio."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

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


def _scope_sql(scope: ClaimScope, row: str) -> tuple[list[str], dict[str, Any]]:
    """The claim's filters on the task row `row` (an alias), with their parameters."""
    where = [
        # `reassigned` work goes only to a named agent who never held the account.
        f"({row}.stage IS DISTINCT FROM 'reassigned' OR (CAST(:agent AS text) IS NOT NULL AND "
        f"NOT (CAST(:agent AS text) = ANY({row}.excluded_agents))))",
        # `external` work goes only to keys bound to the account's partner.
        f"({row}.stage IS DISTINCT FROM 'external' OR "
        f"({row}.partner IS NOT NULL AND {row}.partner = CAST(:key_partner AS text)))",
    ]
    params: dict[str, Any] = {"agent": scope.agent, "key_partner": scope.key_partner}
    if scope.tiers:
        where.append(f"{row}.tier = ANY(CAST(:tiers AS text[]))")
        params["tiers"] = list(scope.tiers)
    if scope.stages:
        where.append(f"{row}.stage = ANY(CAST(:stages AS text[]))")
        params["stages"] = list(scope.stages)
    if scope.partner is not None:
        where.append(f"{row}.partner = :partner")
        params["partner"] = scope.partner
    return where, params


def _pick_sql(scope: ClaimScope, excluding: bool) -> tuple[str, dict[str, Any]]:
    """The claim, one statement: expired leases go back to the pool (their next lease gets a
    new id), then the best `limit` rows among the ready ones (a range scan of the partial index
    on ready rows in priority order) and those just returned, each with its debtor's advisory
    lock taken (`debtor_locked`; at most one live lease per debtor).

    Each locking SELECT sits in a MATERIALIZED CTE and the outer query joins it: written as
    `WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` the planner may run the subquery
    more than once (e.g. as the inner side of a semi-join), locking more rows than `n` and
    handing out rows the caller never sees (the pitfall river and oban document). Concurrent
    claimers never wait on each other's rows (SKIP LOCKED). When expired work outranks ready
    rows, the ready rows it displaces stay locked (unleased) until this claim commits.
    """
    ready, params = _scope_sql(scope, "t")
    returned, _ = _scope_sql(scope, "r")
    if excluding:
        ready.append("t.id <> ALL(CAST(:seen AS bigint[]))")
    sql = f"""
        WITH expired AS MATERIALIZED (
            SELECT id FROM dialer_tasks
            WHERE tenant_id = :tenant_id AND state = 'leased' AND lease_expires_at <= :now
            ORDER BY lease_expires_at
            LIMIT :batch
            FOR UPDATE SKIP LOCKED
        ), returned AS (
            UPDATE dialer_tasks AS d
            SET state = 'ready', lease_id = NULL, lease_expires_at = NULL, updated_at = :now
            FROM expired
            WHERE d.tenant_id = :tenant_id AND d.id = expired.id
            RETURNING d.id, d.priority, d.eligible_at, d.stage, d.tier, d.partner,
                      d.excluded_agents
        ), ready AS MATERIALIZED (
            SELECT t.id, t.priority, t.eligible_at FROM dialer_tasks AS t
            WHERE t.tenant_id = :tenant_id AND t.state = 'ready' AND t.eligible_at <= :now
              AND {" AND ".join(ready)}
            ORDER BY t.priority DESC, t.eligible_at
            LIMIT :limit
            FOR UPDATE SKIP LOCKED
        ), picked AS MATERIALIZED (
            SELECT id, priority, eligible_at FROM ready
            UNION ALL
            SELECT r.id, r.priority, r.eligible_at FROM returned AS r
            WHERE r.eligible_at <= :now AND {" AND ".join(returned)}
            ORDER BY priority DESC, eligible_at
            LIMIT :limit
        )
        SELECT d.id, d.account_id, a.ref AS account_ref, d.debtor_id, d.contact_id,
               c.value AS address, c.relationship, d.purpose, d.priority, d.tier, d.stage,
               a.jurisdiction,
               pg_try_advisory_xact_lock(hashtextextended(
                   'dialer-debtor:' || CAST(:tenant_id AS bigint) || ':' || d.debtor_id, 0
               )) AS debtor_locked
        FROM picked
        JOIN dialer_tasks AS d ON d.tenant_id = :tenant_id AND d.id = picked.id
        JOIN accounts AS a ON a.tenant_id = :tenant_id AND a.id = d.account_id
        JOIN contacts AS c ON c.tenant_id = :tenant_id AND c.id = d.contact_id
        ORDER BY picked.priority DESC, picked.eligible_at
    """  # noqa: S608 - only fixed fragments; values are bound
    return sql, params


# One statement per claim round: lease the allowed rows — unless their debtor has a live lease
# (checked here, in a snapshot taken after this claim's debtor locks, so a lease committed by
# a claimer that held the lock before is seen) — record the leases, move the refused rows to
# when the rules next allow them (or close them), and count each refusal by rule.
_LEASE_AND_REFUSE = text(
    """
    WITH leased AS (
        UPDATE dialer_tasks AS d
        SET state = 'leased', lease_id = u.lease_id, lease_expires_at = :expires_at,
            updated_at = :now
        FROM unnest(CAST(:ids AS bigint[]), CAST(:lease_ids AS uuid[])) AS u(id, lease_id)
        WHERE d.tenant_id = :tenant_id AND d.id = u.id AND d.state = 'ready'
          AND NOT EXISTS (
              SELECT 1 FROM dialer_tasks AS b
              WHERE b.tenant_id = :tenant_id AND b.debtor_id = d.debtor_id
                AND b.state = 'leased' AND b.lease_expires_at > :now
          )
        RETURNING d.id, u.lease_id, d.account_id, d.debtor_id, d.contact_id, d.purpose
    ), recorded AS (
        INSERT INTO dialer_leases (
            tenant_id, id, task_row_id, account_id, debtor_id, contact_id, purpose, key_id,
            agent, leased_at, expires_at
        )
        SELECT :tenant_id, lease_id, id, account_id, debtor_id, contact_id, purpose, :key_id,
               :agent, :now, :expires_at
        FROM leased
    ), postponed AS (
        UPDATE dialer_tasks AS d
        SET eligible_at = COALESCE(u.eligible_at, d.eligible_at),
            state = CASE WHEN u.eligible_at IS NULL THEN 'done' ELSE d.state END,
            updated_at = :now
        FROM unnest(CAST(:refused AS bigint[]), CAST(:eligible AS timestamptz[]))
             AS u(id, eligible_at)
        WHERE d.tenant_id = :tenant_id AND d.id = u.id AND d.state = 'ready'
    ), blocks AS (
        INSERT INTO contact_blocks (tenant_id, blocked_at, account_id, contact_id, jurisdiction,
                                    rule)
        SELECT :tenant_id, :now, u.account_id, u.contact_id, u.jurisdiction, u.rule
        FROM unnest(CAST(:block_accounts AS bigint[]), CAST(:block_contacts AS uuid[]),
                    CAST(:block_jurisdictions AS text[]), CAST(:block_rules AS text[]))
             AS u(account_id, contact_id, jurisdiction, rule)
    )
    SELECT id FROM leased
    """
)


@dataclass(frozen=True, slots=True)
class Refusal:
    candidate: Candidate
    next_allowed_at: datetime | None  # None: never, as things stand (the task is closed)
    rules: Sequence[str]


class QueueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def pick(
        self, tenant_id: int, scope: ClaimScope, now: datetime, limit: int, exclude: set[int]
    ) -> list[tuple[Candidate, bool]]:
        """Lock up to `limit` claimable rows in claim order, each with whether its debtor's
        lock was taken (rows this transaction already looked at in `exclude`: its own locks do
        not make SKIP LOCKED pass them)."""
        sql, params = _pick_sql(scope, bool(exclude))
        params |= {"tenant_id": tenant_id, "now": now, "limit": limit, "batch": EXPIRED_PER_CLAIM}
        if exclude:
            params["seen"] = sorted(exclude)
        picked = []
        for row in await self.session.execute(text(sql), params):
            fields = dict(row._mapping)
            locked = fields.pop("debtor_locked")
            picked.append((Candidate(**fields), bool(locked)))
        return picked

    async def lease_and_refuse(
        self,
        tenant_id: int,
        leases: list[tuple[Candidate, uuid.UUID]],
        refused: list[Refusal],
        *,
        key_id: int,
        agent: str | None,
        now: datetime,
        expires_at: datetime,
    ) -> list[tuple[Candidate, uuid.UUID]]:
        """Lease the allowed rows whose debtor has no live lease; returns those leased. Refused
        rows move to when the rules next allow them, each refusal counted by rule."""
        if not leases and not refused:
            return []
        blocks = [(r.candidate, rule) for r in refused for rule in r.rules]
        params = {
            "tenant_id": tenant_id,
            "now": now,
            "expires_at": expires_at,
            "key_id": key_id,
            "agent": agent,
            "ids": [c.id for c, _ in leases],
            "lease_ids": [lease_id for _, lease_id in leases],
            "refused": [r.candidate.id for r in refused],
            "eligible": [r.next_allowed_at for r in refused],
            "block_accounts": [c.account_id for c, _ in blocks],
            "block_contacts": [c.contact_id for c, _ in blocks],
            "block_jurisdictions": [c.jurisdiction for c, _ in blocks],
            "block_rules": [rule for _, rule in blocks],
        }
        taken = set((await self.session.scalars(_LEASE_AND_REFUSE, params)).all())
        return [(c, lease_id) for c, lease_id in leases if c.id in taken]
