from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from app.accounts import service
from app.accounts.repository import AccountFilters
from app.accounts.schemas import AccountData, AccountOut, AccountPatch
from app.auth import AccountsReader, AccountsWriter, DbSession
from app.http.openapi import READ_ERRORS, WRITE_ERRORS
from app.http.pagination import Cursor, Limit, Page
from app.http.routing import TransactionalRoute
from app.models.enums import AccountStatus, Stage, Tier

router = APIRouter(
    prefix="/v1/accounts", tags=["accounts"], route_class=TransactionalRoute, responses=READ_ERRORS
)

AccountRef = Annotated[str, Path(min_length=1, max_length=100, description="The platform's ref.")]
Filter = Annotated[str | None, Query(min_length=1, max_length=100)]
Dpd = Annotated[int | None, Query(ge=0, le=100_000)]


@router.get("", summary="List accounts")
async def list_accounts(
    principal: AccountsReader,
    session: DbSession,
    tier: Annotated[Tier | None, Query()] = None,
    stage: Annotated[Stage | None, Query()] = None,
    status: Annotated[AccountStatus | None, Query()] = None,
    dpd_min: Dpd = None,
    dpd_max: Dpd = None,
    partner: Filter = None,
    assignee: Filter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AccountOut]:
    filters = AccountFilters(
        tier=tier.value if tier else None,
        stage=stage.value if stage else None,
        status=status.value if status else None,
        dpd_min=dpd_min,
        dpd_max=dpd_max,
        partner=partner,
        assignee=assignee,
    )
    return await service.list_accounts(session, principal, filters, cursor, limit)


@router.get("/{account_ref}", summary="Get an account")
async def get_account(
    account_ref: AccountRef, principal: AccountsReader, session: DbSession
) -> AccountOut:
    return await service.read_account(session, principal, account_ref)


@router.put(
    "/{account_ref}",
    summary="Create (201) or refresh (200) an account",
    status_code=status.HTTP_200_OK,
    responses={**WRITE_ERRORS, 201: {"model": AccountOut, "description": "Created"}},
)
async def put_account(
    account_ref: AccountRef,
    body: AccountData,
    principal: AccountsWriter,
    session: DbSession,
    response: Response,
) -> AccountOut:
    account, created = await service.upsert_account(session, principal, account_ref, body)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return account


@router.patch(
    "/{account_ref}",
    responses=WRITE_ERRORS,
    summary="Change assignee, partner, jurisdiction, debtor time zone",
)
async def patch_account(
    account_ref: AccountRef, body: AccountPatch, principal: AccountsWriter, session: DbSession
) -> AccountOut:
    return await service.patch_account(session, principal, account_ref, body)
