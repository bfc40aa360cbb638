from datetime import datetime
from uuid import UUID

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Interaction


class InteractionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: int, interaction_id: UUID) -> Interaction | None:
        return await self.session.get(Interaction, (tenant_id, interaction_id))

    async def page_for_account(
        self,
        tenant_id: int,
        account_id: int,
        before: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[Interaction]:
        """Newest first."""
        query = (
            select(Interaction)
            .where(Interaction.tenant_id == tenant_id, Interaction.account_id == account_id)
            .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(tuple_(Interaction.occurred_at, Interaction.id) < before)
        return list((await self.session.scalars(query)).all())
