"""Webhook subscriptions and their delivery log. A partner-bound key manages only its own
endpoints, and they receive only events of accounts placed with that partner."""

import base64
import secrets
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Principal
from app.clock import system_now
from app.errors import Conflict, NotFound, invalid
from app.http.pagination import Page, decode_cursor, encode_cursor
from app.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.repository import LAST_OUTBOX_ID, EndpointRepository
from app.webhooks.schemas import (
    SECRET_PREFIX,
    DeliveryOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
)
from app.webhooks.urls import RefusedUrl, check_url


def _out(endpoint: WebhookEndpoint) -> WebhookOut:
    return WebhookOut.model_validate(endpoint, from_attributes=True)


def _delivery(delivery: WebhookDelivery) -> DeliveryOut:
    out = DeliveryOut.model_validate(delivery, from_attributes=True)
    return out if delivery.status == "pending" else out.model_copy(update={"next_attempt_at": None})


def _repository(session: AsyncSession, principal: Principal) -> EndpointRepository:
    return EndpointRepository(session, principal.tenant_id, principal.partner)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


async def create(
    session: AsyncSession, principal: Principal, body: WebhookIn, allow_private: bool
) -> WebhookCreated:
    try:
        await check_url(body.url, allow_private=allow_private)
    except RefusedUrl as exc:
        raise invalid(("body", "url"), str(exc)) from None
    endpoint = WebhookEndpoint(
        tenant_id=principal.tenant_id,
        id=uuid.uuid4(),
        url=body.url,
        events=[event.value for event in body.events],
        secret=body.secret or new_secret(),
        partner=principal.partner,
        status="active",
        created_at=system_now(),
        outbox_after=(await session.execute(LAST_OUTBOX_ID)).scalar_one(),
    )
    session.add(endpoint)
    await session.flush()
    return WebhookCreated(**_out(endpoint).model_dump(), secret=endpoint.secret)


def _after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    values = decode_cursor(cursor, 2)
    if values is None:
        return None
    try:
        return datetime.fromisoformat(values[0]), uuid.UUID(values[1])
    except (TypeError, ValueError):
        raise invalid(("query", "cursor"), "not a cursor this endpoint issued") from None


async def list_endpoints(
    session: AsyncSession, principal: Principal, cursor: str | None, limit: int
) -> Page[WebhookOut]:
    rows = await _repository(session, principal).page(_after(cursor), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at.isoformat(), rows[-1].id) if more else None
    return Page(items=[_out(row) for row in rows], next_cursor=next_cursor)


async def _endpoint(session: AsyncSession, principal: Principal, id: uuid.UUID) -> WebhookEndpoint:
    endpoint = await _repository(session, principal).get(id)
    if endpoint is None:
        raise NotFound("No such webhook.")
    return endpoint


async def delete(session: AsyncSession, principal: Principal, id: uuid.UUID) -> None:
    await session.delete(await _endpoint(session, principal, id))
    await session.flush()


async def deliveries(
    session: AsyncSession, principal: Principal, id: uuid.UUID, cursor: str | None, limit: int
) -> Page[DeliveryOut]:
    await _endpoint(session, principal, id)
    rows = await _repository(session, principal).deliveries(id, _after(cursor), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at.isoformat(), rows[-1].id) if more else None
    return Page(items=[_delivery(row) for row in rows], next_cursor=next_cursor)


async def redeliver(
    session: AsyncSession, principal: Principal, id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryOut:
    """Send again, with the same webhook-id, restarting the retry schedule."""
    endpoint = await _endpoint(session, principal, id)
    delivery = await _repository(session, principal).delivery(id, delivery_id)
    if delivery is None:
        raise NotFound("No such delivery.")
    if endpoint.status != "active":
        raise Conflict(f"The webhook is disabled ({endpoint.disabled_reason}).")
    delivery.status = "pending"
    delivery.retry_step = 0
    delivery.next_attempt_at = system_now()
    delivery.leased_until = None
    await session.flush()
    return _delivery(delivery)
