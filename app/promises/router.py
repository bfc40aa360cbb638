from datetime import date, datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from app.accounts.router import AccountRef
from app.accounts.service import load_account
from app.auth import AccountsReader, DbSession
from app.errors import invalid
from app.http.openapi import READ_ERRORS
from app.http.pagination import Cursor, Limit, Page, decode_cursor, encode_cursor
from app.http.routing import TransactionalRoute
from app.models import Promise

router = APIRouter(
    prefix="/v1/accounts/{account_ref}/promises",
    tags=["promises"],
    route_class=TransactionalRoute,
    responses=READ_ERRORS,
)


class PromiseOut(BaseModel):
    id: UUID
    amount: int
    due_date: date
    status: str
    paid: int
    created_at: datetime
    resolved_at: datetime | None


@router.get("", summary="Promises to pay, newest first (every episode)")
async def list_promises(
    account_ref: AccountRef,
    principal: AccountsReader,
    session: DbSession,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[PromiseOut]:
    account = await load_account(session, principal, account_ref)
    position = decode_cursor(cursor, 2)
    query = (
        select(Promise)
        .where(Promise.tenant_id == principal.tenant_id, Promise.account_id == account.id)
        .order_by(Promise.created_at.desc(), Promise.id.desc())
        .limit(limit + 1)
    )
    if position is not None:
        try:
            before = (datetime.fromisoformat(position[0]), UUID(position[1]))
        except (TypeError, ValueError) as exc:
            raise invalid(("query", "cursor"), "not a cursor this endpoint issued") from exc
        query = query.where(
            (Promise.created_at < before[0])
            | ((Promise.created_at == before[0]) & (Promise.id < before[1]))
        )
    rows = list((await session.scalars(query)).all())
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last.created_at.isoformat(), last.id)
    items = [PromiseOut.model_validate(row, from_attributes=True) for row in rows[:limit]]
    return Page(items=items, next_cursor=next_cursor)
