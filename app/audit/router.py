from fastapi import APIRouter

from app.accounts.router import AccountRef
from app.accounts.service import load_account
from app.audit.repository import AuditRepository
from app.audit.schemas import AuditEntryOut
from app.auth import AccountsReader, DbSession
from app.errors import invalid
from app.http.openapi import READ_ERRORS
from app.http.pagination import Cursor, Limit, Page, decode_cursor, encode_cursor
from app.http.routing import TransactionalRoute
from app.masking import mask_document

router = APIRouter(
    prefix="/v1/accounts", tags=["audit"], route_class=TransactionalRoute, responses=READ_ERRORS
)


@router.get("/{account_ref}/audit", summary="Every state change of an account, oldest first")
async def account_audit(
    account_ref: AccountRef,
    principal: AccountsReader,
    session: DbSession,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AuditEntryOut]:
    account = await load_account(session, principal, account_ref)
    position = decode_cursor(cursor, 1)
    after_id = position[0] if position else None
    if after_id is not None and not isinstance(after_id, int):
        raise invalid(("query", "cursor"), "not a cursor this endpoint issued")
    rows = await AuditRepository(session).page_for_account(
        principal.tenant_id, account.id, after_id, limit + 1
    )
    masked = principal.partner is not None
    items = [
        AuditEntryOut(
            id=row.id,
            occurred_at=row.occurred_at,
            actor=row.actor,
            entity=row.entity,
            entity_id=row.entity_id,
            action=row.action,
            policy_version=row.policy_version,
            request_id=row.request_id,
            before=mask_document(row.before) if masked else row.before,
            after=mask_document(row.after) if masked else row.after,
        )
        for row in rows[:limit]
    ]
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)
