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
        """The newest version; a tenant starts on version 1, the shipped default."""
        row = await self._newest(tenant_id)
        if row is None:
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
            row = await self._newest(tenant_id)
            assert row is not None
        self.session.info[POLICY_VERSION] = row.version
        return _parse(tenant_id, row)

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
        self.session.info[POLICY_VERSION] = row.version
        return _parse(tenant_id, row)

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
