"""One lease (a dialer's `task_id`) and the task row it names."""

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import BigInteger, and_, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account, Contact, DialerLease, DialerTask


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

    async def release_task(self, task: DialerTask, now: datetime) -> None:
        task.state, task.lease_id, task.lease_expires_at, task.updated_at = "ready", None, None, now

    async def open_lease_calls(
        self, tenant_id: int, account_ids: list[int]
    ) -> dict[int, list[tuple[uuid.UUID, str, datetime]]]:
        """Per account, the leases that count as attempts (neither released nor reported):
        (contact id, the contact's relationship, leased at)."""
        if not account_ids:
            return {}
        rows = await self.session.execute(
            select(
                DialerLease.account_id,
                DialerLease.contact_id,
                Contact.relationship,
                DialerLease.leased_at,
            )
            .join(
                Contact,
                and_(Contact.tenant_id == tenant_id, Contact.id == DialerLease.contact_id),
            )
            .where(
                DialerLease.tenant_id == tenant_id,
                DialerLease.account_id
                == any_(bindparam(None, account_ids, type_=ARRAY(BigInteger))),
                DialerLease.released_at.is_(None),
                DialerLease.interaction_id.is_(None),
            )
        )
        found: dict[int, list[tuple[uuid.UUID, str, datetime]]] = defaultdict(list)
        for account_id, contact_id, relationship, leased_at in rows:
            found[account_id].append((contact_id, relationship, leased_at))
        return found

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
