from fastapi import APIRouter, Response, status

from app.accounts.router import AccountRef
from app.auth import AccountsReader, AccountsWriter, DbSession
from app.http.openapi import READ_ERRORS, WRITE_ERRORS
from app.http.pagination import Cursor, Limit, Page
from app.http.routing import TransactionalRoute
from app.interactions import service
from app.interactions.schemas import InteractionIn, InteractionOut

router = APIRouter(
    prefix="/v1/accounts/{account_ref}/interactions",
    tags=["interactions"],
    route_class=TransactionalRoute,
    responses=READ_ERRORS,
)


@router.get("", summary="List an account's interactions, newest first")
async def list_interactions(
    account_ref: AccountRef,
    principal: AccountsReader,
    session: DbSession,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[InteractionOut]:
    return await service.list_interactions(session, principal, account_ref, cursor, limit)


@router.post(
    "",
    responses=WRITE_ERRORS,
    summary="Record an interaction (201; 200 when its client `id` was already recorded)",
    status_code=status.HTTP_201_CREATED,
)
async def record_interaction(
    account_ref: AccountRef,
    body: InteractionIn,
    principal: AccountsWriter,
    session: DbSession,
    response: Response,
) -> InteractionOut:
    interaction, created = await service.record_interaction(session, principal, account_ref, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return interaction
