from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import EvaluationSchedule, Hold, StageChange


class EscalationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_holds(self, tenant_id: int, account_id: int, now: datetime) -> list[Hold]:
        """Holds neither lifted nor past their `until`."""
        return list(
            (
                await self.session.scalars(
                    select(Hold)
                    .where(
                        Hold.tenant_id == tenant_id,
                        Hold.account_id == account_id,
                        Hold.lifted_at.is_(None),
                        Hold.until.is_(None) | (Hold.until > now),
                    )
                    .order_by(Hold.created_at)
                )
            ).all()
        )

    async def schedule(self, tenant_id: int, account_id: int) -> EvaluationSchedule | None:
        """When the account is evaluated next, and under which policy version it last was."""
        # Re-read: an evaluation earlier in this transaction wrote it with plain SQL.
        key = (tenant_id, account_id)
        return await self.session.get(EvaluationSchedule, key, populate_existing=True)

    async def hold(self, tenant_id: int, account_id: int, hold_id: UUID) -> Hold | None:
        return (
            await self.session.scalars(
                select(Hold)
                .where(
                    Hold.tenant_id == tenant_id, Hold.account_id == account_id, Hold.id == hold_id
                )
                .with_for_update()
            )
        ).one_or_none()

    async def history(self, tenant_id: int, account_id: int, limit: int = 200) -> list[StageChange]:
        return list(
            (
                await self.session.scalars(
                    select(StageChange)
                    .where(StageChange.tenant_id == tenant_id, StageChange.account_id == account_id)
                    .order_by(StageChange.id.desc())
                    .limit(limit)
                )
            ).all()
        )[::-1]
