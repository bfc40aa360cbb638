"""Policy versions in PostgreSQL. Versions are immutable, so parsed documents are cached."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import PolicyVersion
from app.policy.document import PolicyDocument, default_document

_parsed: dict[tuple[int, int], PolicyDocument] = {}
_CACHE_LIMIT = 1024
POLICY_VERSION = "policy_version"  # session.info key: the version in force for this unit of work
_MEMO = "active_policy"  # session.info key: (its transaction, tenant id → ActivePolicy)


@dataclass(frozen=True, slots=True)
class ActivePolicy:
    version: int
    created_at: datetime
    created_by: str
    document: PolicyDocument


def _parse(tenant_id: int, row: PolicyVersion) -> ActivePolicy:
    key = (tenant_id, row.version)
    document = _parsed.get(key)
    if document is None:
        document = PolicyDocument.model_validate(row.document)
        if len(_parsed) >= _CACHE_LIMIT:
            _parsed.clear()
        _parsed[key] = document
    return ActivePolicy(row.version, row.created_at, row.created_by, document)


class PolicyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self, tenant_id: int) -> ActivePolicy:
        """The newest version; a tenant starts on version 1, the shipped default. Read once per
        transaction: every later call in the same transaction gets the same version."""
        transaction = self.session.sync_session.get_transaction()
        memo = self.session.info.get(_MEMO)
        if memo is not None and memo[0] is transaction and tenant_id in memo[1]:
            active: ActivePolicy = memo[1][tenant_id]
            self.session.info[POLICY_VERSION] = active.version
            return active
        newest = await self._newest_version(tenant_id)
        if newest is None:
            await self.session.execute(
                insert(PolicyVersion)
                .values(
                    tenant_id=tenant_id,
                    version=1,
                    document=default_document(),
                    created_by="default",
                )
                .on_conflict_do_nothing()
            )
            newest = await self._newest_version(tenant_id)
            assert newest is not None
        version, created_at, created_by = newest
        document = _parsed.get((tenant_id, version))
        if document is None:
            row = await self.session.get(PolicyVersion, (tenant_id, version))
            assert row is not None
            active = _parse(tenant_id, row)
        else:
            active = ActivePolicy(version, created_at, created_by, document)
        return self._remember(tenant_id, active)

    def _remember(self, tenant_id: int, active: ActivePolicy) -> ActivePolicy:
        transaction = self.session.sync_session.get_transaction()
        memo = self.session.info.get(_MEMO)
        if memo is None or memo[0] is not transaction:
            fresh: dict[int, ActivePolicy] = {}
            memo = self.session.info[_MEMO] = (transaction, fresh)
        memo[1][tenant_id] = active
        self.session.info[POLICY_VERSION] = active.version
        return active

    async def _newest_version(self, tenant_id: int) -> tuple[int, datetime, str] | None:
        row = (
            await self.session.execute(
                select(PolicyVersion.version, PolicyVersion.created_at, PolicyVersion.created_by)
                .where(PolicyVersion.tenant_id == tenant_id)
                .order_by(PolicyVersion.version.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2])

    async def _newest(self, tenant_id: int) -> PolicyVersion | None:
        return (
            await self.session.scalars(
                select(PolicyVersion)
                .where(PolicyVersion.tenant_id == tenant_id)
                .order_by(PolicyVersion.version.desc())
                .limit(1)
            )
        ).one_or_none()

    async def add(self, tenant_id: int, document: dict[str, Any], created_by: str) -> ActivePolicy:
        await self.current(tenant_id)
        await self.session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(f"policy:{tenant_id}", 0)))
        )
        newest = await self._newest(tenant_id)
        version = (newest.version if newest else 0) + 1
        row = PolicyVersion(
            tenant_id=tenant_id, version=version, document=document, created_by=created_by
        )
        self.session.add(row)
        await self.session.flush()
        await self.session.refresh(row)
        return self._remember(tenant_id, _parse(tenant_id, row))

    async def page(self, tenant_id: int, before: int | None, limit: int) -> list[PolicyVersion]:
        await self.current(tenant_id)
        query = (
            select(PolicyVersion)
            .where(PolicyVersion.tenant_id == tenant_id)
            .order_by(PolicyVersion.version.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(PolicyVersion.version < before)
        return list((await self.session.scalars(query)).all())
