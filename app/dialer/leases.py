"""One lease (a dialer's `task_id`) and the task row it names."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

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


_LEASE_COLUMNS = """
    l.id, l.task_row_id, l.account_id, l.contact_id, l.purpose, l.leased_at, l.expires_at,
    l.released_at, l.interaction_id
"""
_GET = text(
    f"""
    SELECT {_LEASE_COLUMNS}, a.ref AS account_ref
    FROM dialer_leases AS l
    JOIN accounts AS a ON a.tenant_id = :tenant_id AND a.id = l.account_id
    WHERE l.tenant_id = :tenant_id AND l.id = :lease_id
      AND (CAST(:partner AS text) IS NULL OR a.partner = CAST(:partner AS text))
    """  # noqa: S608 - fixed SQL, values are bound
)
_LOCK_LEASE = text(
    f"""
    SELECT {_LEASE_COLUMNS} FROM dialer_leases AS l
    WHERE l.tenant_id = :tenant_id AND l.id = :lease_id
    FOR UPDATE
    """  # noqa: S608 - fixed SQL, values are bound
)
_LOCK_TASK = text(
    "SELECT lease_id FROM dialer_tasks WHERE tenant_id = :tenant_id AND id = :task_row_id "
    "FOR UPDATE"
)
_FINISH = text(
    """
    WITH task AS (
        UPDATE dialer_tasks
        SET state = 'done', lease_id = NULL, lease_expires_at = NULL, updated_at = :now
        WHERE tenant_id = :tenant_id AND id = :task_row_id AND CAST(:finish_task AS boolean)
    )
    UPDATE dialer_leases SET interaction_id = :interaction_id, ended_at = clock_timestamp()
    WHERE tenant_id = :tenant_id AND id = :lease_id
    """
)


@dataclass(frozen=True, slots=True)
class Lease:
    id: uuid.UUID
    task_row_id: int
    account_id: int
    account_ref: str
    contact_id: uuid.UUID
    purpose: str
    leased_at: datetime
    expires_at: datetime
    released_at: datetime | None
    interaction_id: uuid.UUID | None


class LeaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, tenant_id: int, lease_id: uuid.UUID, *, partner: str | None
    ) -> Lease | None:
        """The lease (with its account's ref); None for another tenant's or partner's lease."""
        params = {"tenant_id": tenant_id, "lease_id": lease_id, "partner": partner}
        row = (await self.session.execute(_GET, params)).first()
        return None if row is None else Lease(**row._mapping)

    async def release(
        self, tenant_id: int, lease_id: uuid.UUID, *, partner: str | None, now: datetime
    ) -> bool:
        """End a live lease and give its task back; False when the lease is not live (or its
        task moved on: then nothing changes, the caller's transaction is rolled back)."""
        params = {"tenant_id": tenant_id, "lease_id": lease_id, "partner": partner, "now": now}
        return (await self.session.scalar(_RELEASE, params)) is not None

    async def lock(self, tenant_id: int, lease: Lease) -> tuple[Lease, uuid.UUID | None]:
        """Lock the lease, then its task row (after the account: the one lock order); the
        lease as it stands now and the task's current lease id."""
        params = {"tenant_id": tenant_id, "lease_id": lease.id}
        row = (await self.session.execute(_LOCK_LEASE, params)).one()
        locked = Lease(**row._mapping, account_ref=lease.account_ref)
        params = {"tenant_id": tenant_id, "task_row_id": lease.task_row_id}
        task_lease_id = await self.session.scalar(_LOCK_TASK, params)
        return locked, task_lease_id

    async def finish(
        self,
        tenant_id: int,
        lease: Lease,
        interaction_id: uuid.UUID,
        *,
        finish_task: bool,
        now: datetime,
    ) -> None:
        """Record the lease's call; close its task when it still is (or again was) the lease's."""
        params = {
            "tenant_id": tenant_id,
            "lease_id": lease.id,
            "task_row_id": lease.task_row_id,
            "interaction_id": interaction_id,
            "finish_task": finish_task,
            "now": now,
        }
        await self.session.execute(_FINISH, params)
