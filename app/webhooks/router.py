from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response, status

from app.auth import Admin, DbSession
from app.http.openapi import READ_ERRORS, WRITE_ERRORS
from app.http.pagination import Cursor, Limit, Page
from app.http.routing import TransactionalRoute
from app.webhooks import service
from app.webhooks.schemas import DeliveryOut, WebhookCreated, WebhookIn, WebhookOut

router = APIRouter(
    prefix="/v1/webhooks", tags=["webhooks"], route_class=TransactionalRoute, responses=READ_ERRORS
)
WebhookId = Annotated[UUID, Path(description="The webhook's id.")]


@router.get("", summary="List webhook subscriptions (secrets are never shown again)")
async def list_webhooks(
    principal: Admin, session: DbSession, limit: Limit = 50, cursor: Cursor = None
) -> Page[WebhookOut]:
    return await service.list_endpoints(session, principal, cursor, limit)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_ERRORS,
    summary="Subscribe a URL to events; the whsec_ secret is returned once",
    description="""Events: `account.tier_changed`, `account.stage_changed`, `promise.broken`,
`promise.kept`, `payment.received`, `account.closed`, delivered at least once from the
outbox as `{type, timestamp, data: {account_ref, ...}}`, signed per Standard Webhooks
(`webhook-id`, `webhook-timestamp` in wall-clock seconds, `webhook-signature: v1,<base64
HMAC-SHA256 of id.timestamp.body>`). Retries after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and
10 h; a 429 waits at least its `Retry-After`; a 410 disables the webhook. A partner-bound
key's webhook receives only events of accounts placed with its partner.""",
)
async def create_webhook(
    body: WebhookIn, request: Request, principal: Admin, session: DbSession
) -> WebhookCreated:
    allow_private = request.app.state.settings.webhook_allow_private
    return await service.create(session, principal, body, allow_private)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE_ERRORS,
    summary="Delete a webhook subscription and its delivery log",
)
async def delete_webhook(webhook_id: WebhookId, principal: Admin, session: DbSession) -> Response:
    await service.delete(session, principal, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries", summary="Delivery log, newest first")
async def list_deliveries(
    webhook_id: WebhookId,
    principal: Admin,
    session: DbSession,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DeliveryOut]:
    return await service.deliveries(session, principal, webhook_id, cursor, limit)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    responses=WRITE_ERRORS,
    summary="Send a delivery again (same webhook-id), restarting its retry schedule",
)
async def redeliver(
    webhook_id: WebhookId,
    delivery_id: Annotated[UUID, Path(description="The delivery's id (its webhook-id).")],
    principal: Admin,
    session: DbSession,
) -> DeliveryOut:
    return await service.redeliver(session, principal, webhook_id, delivery_id)
