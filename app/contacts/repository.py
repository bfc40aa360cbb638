from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Contact


class ContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_account(
        self, tenant_id: int, account_id: int, after_id: UUID | None = None, limit: int = 500
    ) -> list[Contact]:
        query = (
            select(Contact)
            .where(Contact.tenant_id == tenant_id, Contact.account_id == account_id)
            .order_by(Contact.id)
            .limit(limit)
        )
        if after_id is not None:
            query = query.where(Contact.id > after_id)
        return list((await self.session.scalars(query)).all())

    async def get(
        self, tenant_id: int, account_id: int, contact_id: UUID, *, for_update: bool = False
    ) -> Contact | None:
        query = select(Contact).where(
            Contact.tenant_id == tenant_id,
            Contact.account_id == account_id,
            Contact.id == contact_id,
        )
        if for_update:
            query = query.with_for_update()
        return (await self.session.scalars(query)).one_or_none()

    async def find(self, tenant_id: int, account_id: int, kind: str, value: str) -> Contact | None:
        return (
            await self.session.scalars(
                select(Contact).where(
                    Contact.tenant_id == tenant_id,
                    Contact.account_id == account_id,
                    Contact.kind == kind,
                    Contact.value == value,
                )
            )
        ).one_or_none()

    async def upsert_many(
        self, tenant_id: int, account_id: int, seeds: list[dict[str, Any]], now: datetime
    ) -> None:
        """Insert or refresh by (account, kind, value); a refresh never reactivates a contact."""
        if not seeds:
            return
        rows = [
            {"tenant_id": tenant_id, "account_id": account_id, "updated_at": now, **seed}
            for seed in seeds
        ]
        statement = insert(Contact).values(rows)
        table = Contact.__table__.c
        statement = statement.on_conflict_do_update(
            index_elements=[Contact.tenant_id, Contact.account_id, Contact.kind, Contact.value],
            set_={
                "relationship": statement.excluded.relationship,
                "label": func.coalesce(statement.excluded.label, table.label),
                "timezone": func.coalesce(statement.excluded.timezone, table.timezone),
                "updated_at": statement.excluded.updated_at,
            },
        )
        await self.session.execute(statement)
