from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, status

from app.accounts.router import AccountRef
from app.auth import AccountsReader, AccountsWriter, DbSession
from app.contacts import service
from app.contacts.schemas import ContactIn, ContactOut, ContactPatch
from app.http.openapi import READ_ERRORS, WRITE_ERRORS
from app.http.pagination import Cursor, Limit, Page
from app.http.routing import TransactionalRoute

router = APIRouter(
    prefix="/v1/accounts/{account_ref}/contacts",
    tags=["contacts"],
    route_class=TransactionalRoute,
    responses=READ_ERRORS,
)


@router.get("", summary="List an account's contacts")
async def list_contacts(
    account_ref: AccountRef,
    principal: AccountsReader,
    session: DbSession,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ContactOut]:
    return await service.list_contacts(session, principal, account_ref, cursor, limit)


@router.post(
    "", responses=WRITE_ERRORS, summary="Add a contact", status_code=status.HTTP_201_CREATED
)
async def create_contact(
    account_ref: AccountRef, body: ContactIn, principal: AccountsWriter, session: DbSession
) -> ContactOut:
    return await service.create_contact(session, principal, account_ref, body)


@router.patch(
    "/{contact_id}",
    responses=WRITE_ERRORS,
    summary="Change a contact's status, relationship, label, zone",
)
async def patch_contact(
    account_ref: AccountRef,
    contact_id: Annotated[UUID, Path()],
    body: ContactPatch,
    principal: AccountsWriter,
    session: DbSession,
) -> ContactOut:
    return await service.patch_contact(session, principal, account_ref, contact_id, body)
