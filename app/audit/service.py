"""Writes audit rows in the caller's transaction; the request boundary commits them."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.repository import AuditRepository
from app.auth import Principal
from app.logs import request_id_var


def audit(
    session: AsyncSession,
    principal: Principal,
    *,
    entity: str,
    entity_id: str,
    action: str,
    account_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    policy_version: int | None = None,
) -> None:
    AuditRepository(session).record(
        tenant_id=principal.tenant_id,
        actor=principal.actor,
        at=principal.clock.now(),
        entity=entity,
        entity_id=entity_id,
        action=action,
        account_id=account_id,
        before=before,
        after=after,
        request_id=request_id_var.get(),
        policy_version=policy_version,
    )
