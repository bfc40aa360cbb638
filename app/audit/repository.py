from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(
        self,
        *,
        tenant_id: int,
        actor: str,
        at: datetime,
        entity: str,
        entity_id: str,
        action: str,
        account_id: int | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        request_id: str | None = None,
        policy_version: int | None = None,
    ) -> None:
        self.session.add(
            AuditEntry(
                tenant_id=tenant_id,
                account_id=account_id,
                entity=entity,
                entity_id=entity_id,
                action=action,
                actor=actor,
                request_id=request_id,
                policy_version=(
                    policy_version
                    if policy_version is not None
                    else self.session.info.get("policy_version")
                ),
                before=before,
                after=after,
                occurred_at=at,
            )
        )

    async def page_for_account(
        self, tenant_id: int, account_id: int, after_id: int | None, limit: int
    ) -> list[AuditEntry]:
        query = (
            select(AuditEntry)
            .where(AuditEntry.tenant_id == tenant_id, AuditEntry.account_id == account_id)
            .order_by(AuditEntry.id)
            .limit(limit)
        )
        if after_id is not None:
            query = query.where(AuditEntry.id > after_id)
        return list((await self.session.scalars(query)).all())
