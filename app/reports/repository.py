"""The reports' SQL: one grouped query per report, scoped to the tenant and, for a
partner-bound key, to the accounts currently placed with that partner."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.reports.history import BUCKET_SQL

_PLACED = "JOIN accounts AS a ON a.tenant_id = f.tenant_id AND a.id = f.account_id"
NOT_CONVERSATIONS = "('no_answer', 'busy', 'voicemail', 'wrong_number', 'reached_third_party')"


class ReportRepository:
    def __init__(self, session: AsyncSession, tenant_id: int, partner: str | None) -> None:
        self.session = session
        self.params: dict[str, Any] = {"tenant_id": tenant_id}
        self.scope = ""
        if partner is not None:
            self.params["partner"] = partner
            self.scope = "AND a.partner = :partner"

    async def _rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        result = await self.session.execute(text(sql), {**self.params, **params})
        return [dict(row) for row in result.mappings()]

    async def status_totals(self) -> list[dict[str, Any]]:
        return await self._rows(
            f"""
            SELECT a.status, a.currency, count(*) AS count, sum(a.balance) AS balance
            FROM accounts AS a WHERE a.tenant_id = :tenant_id {self.scope}
            GROUP BY 1, 2 ORDER BY 1, 2
            """  # noqa: S608 - constant SQL fragments only
        )

    async def portfolio(self, today: date) -> list[dict[str, Any]]:
        return await self._rows(
            f"""
            SELECT a.tier, a.stage, {BUCKET_SQL} AS bucket, a.currency,
                   count(*) AS count, sum(a.balance) AS balance
            FROM accounts AS a
            WHERE a.tenant_id = :tenant_id AND a.status = 'delinquent' {self.scope}
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            """,  # noqa: S608
            today=today,
        )

    async def promises(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        return await self._rows(
            f"""
            SELECT a.currency, count(*) AS made,
                   count(*) FILTER (WHERE p.status = 'kept') AS kept,
                   count(*) FILTER (WHERE p.status = 'partially_kept') AS partially_kept,
                   count(*) FILTER (WHERE p.status = 'broken') AS broken,
                   count(*) FILTER (WHERE p.status = 'pending') AS pending,
                   count(*) FILTER (WHERE p.status = 'cancelled') AS cancelled,
                   sum(p.amount) AS amount_promised, sum(p.paid) AS amount_paid,
                   coalesce(sum(p.amount) FILTER (WHERE p.status = 'kept'), 0) AS amount_kept
            FROM promises AS p
            JOIN accounts AS a ON a.tenant_id = p.tenant_id AND a.id = p.account_id
            WHERE p.tenant_id = :tenant_id AND p.created_at >= :start AND p.created_at < :end
              {self.scope}
            GROUP BY 1 ORDER BY 1
            """,  # noqa: S608
            start=start,
            end=end,
        )

    async def roll_rates(self, start: date, end: date) -> list[dict[str, Any]]:
        """Only a partner's view needs the accounts (their current partner): the join costs
        more than both passes over the history together."""
        return await self._rows(
            f"""
            SELECT f.bucket AS from_bucket, t.bucket AS to_bucket, count(*) AS count
            FROM account_history AS f
            JOIN account_history AS t
              ON t.tenant_id = f.tenant_id AND t.account_id = f.account_id
             AND t.valid_from <= :end AND (t.valid_to IS NULL OR t.valid_to > :end)
            {self.scope and _PLACED}
            WHERE f.tenant_id = :tenant_id
              AND f.valid_from <= :start AND (f.valid_to IS NULL OR f.valid_to > :start)
              {self.scope}
            GROUP BY 1, 2
            """,  # noqa: S608
            start=start,
            end=end,
        )

    async def contacts(self, start: datetime, end: datetime, zone: str) -> list[dict[str, Any]]:
        return await self._rows(
            f"""
            WITH calls AS (
                SELECT i.account_id, i.direction,
                       c.relationship = 'self' AND i.outcome NOT IN {NOT_CONVERSATIONS}
                           AS conversation,
                       CAST(i.occurred_at AT TIME ZONE :zone AS date) AS day,
                       a.tier AS tier_now, a.stage AS stage_now
                FROM interactions AS i
                JOIN accounts AS a ON a.tenant_id = i.tenant_id AND a.id = i.account_id
                JOIN contacts AS c ON c.tenant_id = i.tenant_id AND c.id = i.contact_id
                WHERE i.tenant_id = :tenant_id AND i.channel = 'call'
                  AND i.occurred_at >= :start AND i.occurred_at < :end {self.scope}
                UNION ALL
                SELECT l.account_id, 'outbound', false,
                       CAST(l.leased_at AT TIME ZONE :zone AS date), a.tier, a.stage
                FROM dialer_leases AS l
                JOIN accounts AS a ON a.tenant_id = l.tenant_id AND a.id = l.account_id
                WHERE l.tenant_id = :tenant_id
                  AND l.released_at IS NULL AND l.interaction_id IS NULL
                  AND l.leased_at >= :start AND l.leased_at < :end {self.scope}
            )
            SELECT coalesce(h.tier, calls.tier_now) AS tier,
                   CASE WHEN h.account_id IS NULL THEN calls.stage_now ELSE h.stage END AS stage,
                   count(*) FILTER (WHERE direction = 'outbound') AS attempts,
                   count(*) FILTER (WHERE direction = 'outbound' AND conversation)
                       AS right_party_contacts,
                   count(*) FILTER (WHERE direction = 'inbound' AND conversation)
                       AS inbound_conversations
            FROM calls
            LEFT JOIN account_history AS h
              ON h.tenant_id = :tenant_id AND h.account_id = calls.account_id
             AND h.valid_from <= calls.day AND (h.valid_to IS NULL OR h.valid_to > calls.day)
            GROUP BY 1, 2 ORDER BY 1, 2
            """,  # noqa: S608
            start=start,
            end=end,
            zone=zone,
        )

    async def compliance(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        return await self._rows(
            f"""
            SELECT 'blocked_claim' AS kind, b.jurisdiction, b.rule, count(*) AS count
            FROM contact_blocks AS b
            JOIN accounts AS a ON a.tenant_id = b.tenant_id AND a.id = b.account_id
            WHERE b.tenant_id = :tenant_id AND b.blocked_at >= :start AND b.blocked_at < :end
              {self.scope}
            GROUP BY 1, 2, 3
            UNION ALL
            SELECT 'violation', i.violations_jurisdiction, v.rule, count(*)
            FROM interactions AS i
            JOIN accounts AS a ON a.tenant_id = i.tenant_id AND a.id = i.account_id
            CROSS JOIN LATERAL unnest(i.violations) AS v(rule)
            WHERE i.tenant_id = :tenant_id AND i.occurred_at >= :start AND i.occurred_at < :end
              AND cardinality(i.violations) > 0 {self.scope}
            GROUP BY 1, 2, 3
            ORDER BY 1, 2, 3
            """,  # noqa: S608
            start=start,
            end=end,
        )
