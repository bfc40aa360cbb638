from uuid import UUID

from fastapi import APIRouter, Request, status

from app import metrics
from app.auth import DbSession, Dialer
from app.dialer import service
from app.dialer.schemas import ClaimIn, ClaimOut, OutcomeIn, ReleaseOut
from app.http.openapi import WRITE_ERRORS
from app.http.routing import TransactionalRoute, after_commit
from app.interactions.schemas import InteractionOut

router = APIRouter(
    prefix="/v1/dialer",
    tags=["dialer"],
    route_class=TransactionalRoute,
    responses=WRITE_ERRORS,
)


@router.post(
    "/claims",
    summary="Lease up to `limit` next calls, each allowed by the contact rules for the whole lease",
)
async def claim(request: Request, body: ClaimIn, principal: Dialer, session: DbSession) -> ClaimOut:
    claimed = await service.claim(session, principal, body)
    after_commit(request, lambda: metrics.dialer_claimed(len(claimed.out.tasks), claimed.blocks))
    return claimed.out


@router.post(
    "/tasks/{task_id}/outcome",
    status_code=status.HTTP_201_CREATED,
    summary="Record the call's outcome (an interaction) and end the lease; an expired lease's "
    "outcome is still recorded, flagged `stale_lease`",
)
async def report_outcome(
    request: Request, task_id: UUID, body: OutcomeIn, principal: Dialer, session: DbSession
) -> InteractionOut:
    recorded = await service.report_outcome(session, principal, task_id, body)
    stale = any(effect.get("type") == "stale_lease" for effect in recorded.effects)
    after_commit(
        request, lambda: metrics.dialer_outcomes.labels("stale" if stale else "live").inc()
    )
    return recorded


@router.post(
    "/tasks/{task_id}/release",
    summary="Give the work back unused (409 unless the lease is still live)",
)
async def release(task_id: UUID, principal: Dialer, session: DbSession) -> ReleaseOut:
    return await service.release(session, principal, task_id)
