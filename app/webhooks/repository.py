"""Webhook SQL: subscriptions, the outbox fan-out, and leased delivery rows.

Workers in any number of processes share the work: outbox rows and due deliveries are taken
with FOR UPDATE SKIP LOCKED, and a delivery is leased (leased_until) while it is in flight,
so a worker that dies mid-delivery leaves it to be sent again, with the same webhook-id.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import WebhookDelivery, WebhookEndpoint


class EndpointRepository:
    def __init__(self, session: AsyncSession, tenant_id: int, partner: str | None) -> None:
        self.session, self.tenant_id, self.partner = session, tenant_id, partner

    def _scoped(self) -> Select[WebhookEndpoint]:
        query = select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == self.tenant_id)
        if self.partner is not None:
            query = query.where(WebhookEndpoint.partner == self.partner)
        return query

    async def get(self, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
        query = self._scoped().where(WebhookEndpoint.id == endpoint_id)
        return (await self.session.scalars(query)).one_or_none()

    async def page(
        self, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[WebhookEndpoint]:
        query = self._scoped().order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        if after is not None:
            query = query.where(
                (WebhookEndpoint.created_at, WebhookEndpoint.id) > after  # type: ignore[operator]
            )
        return list((await self.session.scalars(query.limit(limit))).all())

    async def deliveries(
        self, endpoint_id: uuid.UUID, before: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[WebhookDelivery]:
        query = (
            select(WebhookDelivery)
            .where(
                WebhookDelivery.tenant_id == self.tenant_id,
                WebhookDelivery.endpoint_id == endpoint_id,
            )
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(
                (WebhookDelivery.created_at, WebhookDelivery.id) < before  # type: ignore[operator]
            )
        return list((await self.session.scalars(query)).all())

    async def delivery(
        self, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> WebhookDelivery | None:
        query = select(WebhookDelivery).where(
            WebhookDelivery.tenant_id == self.tenant_id,
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.id == delivery_id,
        )
        return (await self.session.scalars(query.with_for_update())).one_or_none()


_DISPATCH = text(
    """
    WITH batch AS (
        SELECT o.tenant_id, o.id, o.type, o.account_id, o.payload, o.occurred_at, o.created_at
        FROM outbox AS o
        WHERE o.dispatched_at IS NULL
        ORDER BY o.id LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ), fanned AS (
        INSERT INTO webhook_deliveries
            (tenant_id, id, endpoint_id, outbox_id, event_type, body, next_attempt_at)
        SELECT b.tenant_id, gen_random_uuid(), e.id, b.id, b.type,
               CAST(json_build_object(
                   'type', b.type, 'timestamp', b.occurred_at, 'data', b.payload
               ) AS text),
               :now
        FROM batch AS b
        JOIN webhook_endpoints AS e
          ON e.tenant_id = b.tenant_id AND e.status = 'active'
         AND b.type = ANY(e.events) AND b.id > e.outbox_after
        LEFT JOIN accounts AS a ON a.tenant_id = b.tenant_id AND a.id = b.account_id
        WHERE e.partner IS NULL OR e.partner = a.partner
        ON CONFLICT (tenant_id, endpoint_id, outbox_id) DO NOTHING
    )
    UPDATE outbox AS o SET dispatched_at = :now
    FROM batch AS b WHERE o.tenant_id = b.tenant_id AND o.id = b.id
    """
)

LAST_OUTBOX_ID = text("SELECT coalesce(max(id), 0) FROM outbox")

_LEASE = text(
    """
    WITH picked AS (
        SELECT d.tenant_id, d.id
        FROM webhook_deliveries AS d
        JOIN webhook_endpoints AS e
          ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id AND e.status = 'active'
        WHERE d.status = 'pending' AND d.next_attempt_at <= :now
          AND (d.leased_until IS NULL OR d.leased_until <= :now)
        ORDER BY d.next_attempt_at
        LIMIT :limit
        FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE webhook_deliveries AS d
    SET leased_until = :lease_until, attempts = d.attempts + 1, last_attempt_at = :now
    FROM picked, webhook_endpoints AS e
    WHERE d.tenant_id = picked.tenant_id AND d.id = picked.id
      AND e.tenant_id = d.tenant_id AND e.id = d.endpoint_id
    RETURNING d.tenant_id, d.id, d.endpoint_id, d.body, d.retry_step, d.attempts,
              e.url, e.secret
    """
)

_RECORD = text(
    """
    UPDATE webhook_deliveries AS d SET
        status = u.status, retry_step = u.retry_step, next_attempt_at = u.next_at,
        last_status_code = u.code, last_error = u.error, leased_until = NULL,
        delivered_at = CASE WHEN u.status = 'delivered' THEN :now ELSE d.delivered_at END
    FROM unnest(
        CAST(:tenants AS bigint[]), CAST(:ids AS uuid[]), CAST(:attempts AS int[]),
        CAST(:statuses AS text[]), CAST(:steps AS int[]), CAST(:next_at AS timestamptz[]),
        CAST(:codes AS int[]), CAST(:errors AS text[])
    ) AS u(tenant_id, id, attempts, status, retry_step, next_at, code, error)
    WHERE d.tenant_id = u.tenant_id AND d.id = u.id
      AND d.attempts = u.attempts AND d.leased_until = :lease_until
    """
)

_DISABLE = text(
    """
    UPDATE webhook_endpoints AS e SET status = 'disabled', disabled_reason = :reason
    FROM unnest(CAST(:tenants AS bigint[]), CAST(:ids AS uuid[])) AS u(tenant_id, id)
    WHERE e.tenant_id = u.tenant_id AND e.id = u.id
    """
)


@dataclass(frozen=True, slots=True)
class Leased:
    tenant_id: int
    id: uuid.UUID
    endpoint_id: uuid.UUID
    body: str
    retry_step: int
    attempts: int
    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery: Leased
    status: str
    retry_step: int
    next_attempt_at: datetime
    status_code: int | None
    error: str | None
    gone: bool = False


async def dispatch(session: AsyncSession, now: datetime, limit: int) -> int:
    """Turn up to `limit` undispatched outbox events into deliveries; the count taken."""
    result = await session.execute(_DISPATCH, {"now": now, "limit": limit})
    return int(result.rowcount)  # type: ignore[attr-defined]


async def lease(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int
) -> list[Leased]:
    params = {"now": now, "lease_until": lease_until, "limit": limit}
    rows = (await session.execute(_LEASE, params)).mappings()
    return [Leased(**dict(row)) for row in rows]


async def record(
    session: AsyncSession, outcomes: list[Outcome], now: datetime, lease_until: datetime
) -> None:
    if not outcomes:
        return
    arrays: dict[str, Any] = {
        "now": now,
        "lease_until": lease_until,
        "tenants": [o.delivery.tenant_id for o in outcomes],
        "ids": [o.delivery.id for o in outcomes],
        "attempts": [o.delivery.attempts for o in outcomes],
        "statuses": [o.status for o in outcomes],
        "steps": [o.retry_step for o in outcomes],
        "next_at": [o.next_attempt_at for o in outcomes],
        "codes": [o.status_code for o in outcomes],
        "errors": [o.error for o in outcomes],
    }
    await session.execute(_RECORD, arrays)
    gone = [o.delivery for o in outcomes if o.gone]
    if gone:
        await session.execute(
            _DISABLE,
            {
                "reason": "the receiver answered 410 Gone",
                "tenants": [d.tenant_id for d in gone],
                "ids": [d.endpoint_id for d in gone],
            },
        )


async def backlog(session: AsyncSession) -> int:
    """Deliveries still pending, over every tenant (the due index covers them)."""
    return int(await session.scalar(_BACKLOG) or 0)


_BACKLOG = text("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")


async def release(session: AsyncSession, leased: list[Leased], lease_until: datetime) -> None:
    """Give back deliveries leased until `lease_until` and not yet recorded (a stopping
    worker's), so another worker may send them without waiting for the lease to end."""
    await session.execute(
        _RELEASE,
        {
            "lease_until": lease_until,
            "tenants": [d.tenant_id for d in leased],
            "ids": [d.id for d in leased],
        },
    )


_RELEASE = text(
    """
    UPDATE webhook_deliveries AS d SET leased_until = NULL
    FROM unnest(CAST(:tenants AS bigint[]), CAST(:ids AS uuid[])) AS u(tenant_id, id)
    WHERE d.tenant_id = u.tenant_id AND d.id = u.id
      AND d.status = 'pending' AND d.leased_until = :lease_until
    """
)
