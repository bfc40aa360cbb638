from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, status

from app.accounts.router import AccountRef
from app.auth import AccountsReader, AccountsWriter, DbSession
from app.escalation import service
from app.escalation.schemas import AdvanceIn, EscalationOut, HoldIn, HoldState
from app.http.openapi import READ_ERRORS, WRITE_ERRORS
from app.http.routing import TransactionalRoute

router = APIRouter(
    prefix="/v1/accounts/{account_ref}/escalation",
    tags=["escalation"],
    route_class=TransactionalRoute,
    responses=READ_ERRORS,
)


@router.get("", summary="Stage, tier and why, holds, stops, next evaluation, history")
async def get_escalation(
    account_ref: AccountRef, principal: AccountsReader, session: DbSession
) -> EscalationOut:
    return await service.read(session, principal, account_ref)


@router.post(
    "/holds",
    responses=WRITE_ERRORS,
    summary="Hold the climb (hardship, dispute, ...) until a review date or until lifted",
    status_code=status.HTTP_201_CREATED,
)
async def create_hold(
    account_ref: AccountRef, body: HoldIn, principal: AccountsWriter, session: DbSession
) -> HoldState:
    return await service.create_hold(session, principal, account_ref, body)


@router.delete(
    "/holds/{hold_id}",
    responses=WRITE_ERRORS,
    summary="Lift a hold (409 if it was already lifted)",
)
async def lift_hold(
    account_ref: AccountRef,
    hold_id: Annotated[UUID, Path()],
    principal: AccountsWriter,
    session: DbSession,
) -> HoldState:
    return await service.lift_hold(session, principal, account_ref, hold_id)


@router.post(
    "/advance",
    responses=WRITE_ERRORS,
    summary="Advance one stage by hand (409 with the blockers when blocked)",
)
async def advance(
    account_ref: AccountRef, body: AdvanceIn, principal: AccountsWriter, session: DbSession
) -> EscalationOut:
    return await service.advance(session, principal, account_ref, body)
