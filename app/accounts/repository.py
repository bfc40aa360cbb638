from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account, Debtor, Hold


@dataclass(frozen=True, slots=True)
class AccountFilters:
    tier: str | None = None
    stage: str | None = None
    status: str | None = None
    dpd_min: int | None = None
    dpd_max: int | None = None
    partner: str | None = None
    assignee: str | None = None


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _scoped(self, tenant_id: int, partner: str | None) -> Select[Account]:
        query = select(Account).where(Account.tenant_id == tenant_id)
        if partner is not None:
            query = query.where(Account.partner == partner)
        return query

    async def by_ref(
        self, tenant_id: int, ref: str, *, partner: str | None, for_update: bool = False
    ) -> Account | None:
        query = self._scoped(tenant_id, partner).where(Account.ref == ref)
        if for_update:
            query = query.with_for_update()
        return (await self.session.scalars(query)).one_or_none()

    async def page(
        self,
        tenant_id: int,
        filters: AccountFilters,
        *,
        partner_scope: str | None,
        today: date,
        after_id: int | None,
        limit: int,
    ) -> list[Account]:
        query = self._scoped(tenant_id, partner_scope).order_by(Account.id).limit(limit)
        if after_id is not None:
            query = query.where(Account.id > after_id)
        for column, value in (
            (Account.tier, filters.tier),
            (Account.stage, filters.stage),
            (Account.status, filters.status),
            (Account.partner, filters.partner),
            (Account.assignee, filters.assignee),
        ):
            if value is not None:
                query = query.where(column == value)
        if filters.stage is not None:
            # Off the ladder an account has no stage (its history keeps the last one).
            query = query.where(Account.status == "delinquent")
        if filters.dpd_min is not None and filters.dpd_min > 0:
            query = query.where(
                Account.status == "delinquent",
                Account.due_date <= today - timedelta(days=filters.dpd_min),
            )
        if filters.dpd_max is not None:
            # Days past due is 0 off the ladder, so only delinquent accounts can exceed it.
            query = query.where(
                (Account.status != "delinquent")
                | (Account.due_date >= today - timedelta(days=filters.dpd_max))
            )
        return list((await self.session.scalars(query)).all())

    async def debtors(self, tenant_id: int, ids: set[int]) -> dict[int, Debtor]:
        if not ids:
            return {}
        rows = await self.session.scalars(
            select(Debtor).where(Debtor.tenant_id == tenant_id, Debtor.id.in_(ids))
        )
        return {debtor.id: debtor for debtor in rows}

    async def active_holds(
        self, tenant_id: int, account_ids: set[int], now: datetime
    ) -> dict[int, list[Hold]]:
        """Holds neither lifted nor past their `until`."""
        held: dict[int, list[Hold]] = {account_id: [] for account_id in account_ids}
        if not account_ids:
            return held
        rows = await self.session.scalars(
            select(Hold)
            .where(
                Hold.tenant_id == tenant_id,
                Hold.account_id.in_(account_ids),
                Hold.lifted_at.is_(None),
                Hold.until.is_(None) | (Hold.until > now),
            )
            .order_by(Hold.created_at)
        )
        for hold in rows:
            held[hold.account_id].append(hold)
        return held

    async def debtor_placed_elsewhere(
        self, tenant_id: int, customer_ref: str, partner: str
    ) -> bool:
        """Whether the debtor has accounts not placed with `partner` (a partner key must not
        change a person the lender or another partner also holds)."""
        query = (
            select(Account.id)
            .join(
                Debtor, (Debtor.tenant_id == Account.tenant_id) & (Debtor.id == Account.debtor_id)
            )
            .where(
                Account.tenant_id == tenant_id,
                Debtor.customer_ref == customer_ref,
                Account.partner.is_distinct_from(partner),
            )
            .limit(1)
        )
        return (await self.session.scalars(query)).first() is not None

    async def upsert_debtor(self, tenant_id: int, values: dict[str, Any]) -> Debtor:
        """Insert or refresh by (tenant, customer_ref), locking the row for this transaction."""
        inserted = insert(Debtor).values(tenant_id=tenant_id, **values)
        statement = inserted.on_conflict_do_update(
            index_elements=[Debtor.tenant_id, Debtor.customer_ref],
            set_={
                "name": inserted.excluded.name,
                "locale": inserted.excluded.locale,
                "timezone": func.coalesce(inserted.excluded.timezone, Debtor.__table__.c.timezone),
                "updated_at": inserted.excluded.updated_at,
            },
        ).returning(Debtor.id)
        debtor_id = (await self.session.execute(statement)).scalar_one()
        debtor = await self.session.get(
            Debtor, (tenant_id, debtor_id), populate_existing=True, with_for_update=True
        )
        assert debtor is not None
        return debtor

    async def insert_account_if_absent(self, values: dict[str, Any]) -> bool:
        """Insert unless the ref exists (a concurrent creator may have won); True if inserted."""
        statement = (
            insert(Account)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[Account.tenant_id, Account.ref])
            .returning(Account.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None
