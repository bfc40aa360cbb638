"""One lease (a dialer's `task_id`) and the task row it names."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, and_, any_, bindparam, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account, DialerLease, DialerTask

# Release in one statement: end the lease if it is still live (neither released nor reported,
# not expired, still its task's lease) and give its task back. The lease row is locked before
# the task row, as an outcome locks them; the account row is not locked (nothing on it
# changes). Re-checked on the newest row versions when a concurrent outcome or release wins.
_RELEASE = text(
    """
    WITH ended AS (
        UPDATE dialer_leases AS l
        SET released_at = :now, ended_at = clock_timestamp()
        FROM accounts AS a
        WHERE l.tenant_id = :tenant_id AND l.id = :lease_id
          AND a.tenant_id = :tenant_id AND a.id = l.account_id
          AND (CAST(:partner AS text) IS NULL OR a.partner = CAST(:partner AS text))
          AND l.released_at IS NULL AND l.interaction_id IS NULL AND l.expires_at > :now
        RETURNING l.id, l.task_row_id
    )
    UPDATE dialer_tasks AS d
    SET state = 'ready', lease_id = NULL, lease_expires_at = NULL, updated_at = :now
    FROM ended
    WHERE d.tenant_id = :tenant_id AND d.id = ended.task_row_id AND d.lease_id = ended.id
    RETURNING d.id
    """
)


class LeaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, tenant_id: int, lease_id: uuid.UUID, *, partner: str | None
    ) -> tuple[DialerLease, str] | None:
        """The lease and its account's ref; None for another tenant's or partner's lease."""
        query = (
            select(DialerLease, Account.ref)
            .join(
                Account,
                and_(Account.tenant_id == tenant_id, Account.id == DialerLease.account_id),
            )
            .where(DialerLease.tenant_id == tenant_id, DialerLease.id == lease_id)
        )
        if partner is not None:
            query = query.where(Account.partner == partner)
        row = (await self.session.execute(query)).first()
        return None if row is None else (row[0], row[1])

    async def release(
        self, tenant_id: int, lease_id: uuid.UUID, *, partner: str | None, now: datetime
    ) -> bool:
        """End a live lease and give its task back; False when the lease is not live (or its
        task moved on: then nothing changes, the caller's transaction is rolled back)."""
        params = {"tenant_id": tenant_id, "lease_id": lease_id, "partner": partner, "now": now}
        return (await self.session.scalar(_RELEASE, params)) is not None

    async def lock(self, tenant_id: int, lease: DialerLease) -> DialerTask:
        """Lock the lease and its task row (after the account: the one lock order)."""
        await self.session.execute(
            select(DialerLease.id)
            .where(DialerLease.tenant_id == tenant_id, DialerLease.id == lease.id)
            .with_for_update()
        )
        await self.session.refresh(lease)
        task = (
            await self.session.scalars(
                select(DialerTask)
                .where(DialerTask.tenant_id == tenant_id, DialerTask.id == lease.task_row_id)
                .with_for_update()
            )
        ).one()
        return task

    async def finish_task(self, task: DialerTask, now: datetime) -> None:
        task.state, task.lease_id, task.lease_expires_at, task.updated_at = "done", None, None, now

    async def close_open_tasks(self, tenant_id: int, task_ids: list[int], now: datetime) -> None:
        if task_ids:
            await self.session.execute(
                update(DialerTask)
                .where(
                    DialerTask.tenant_id == tenant_id,
                    DialerTask.id == any_(bindparam(None, task_ids, type_=ARRAY(BigInteger))),
                    DialerTask.state == "ready",
                )
                .values(state="done", updated_at=now)
            )
