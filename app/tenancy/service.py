"""Tenants and API keys (used by the CLI; each call flushes, the caller commits)."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import generate_key
from app.clock import system_now
from app.fields import is_time_zone
from app.models import ApiKey, Tenant
from app.models.enums import Jurisdiction, Scope

ALL_SCOPES = [scope.value for scope in Scope]


class TenancyError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: str
    prefix: str
    tenant: str
    scopes: list[str]
    partner: str | None


async def create_tenant(
    session: AsyncSession,
    name: str,
    *,
    sandbox: bool = False,
    jurisdiction: str = Jurisdiction.us_reg_f.value,
    timezone: str = "UTC",
) -> Tenant:
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise TenancyError("a tenant name has 1 to 100 characters")
    if jurisdiction not in {j.value for j in Jurisdiction}:
        raise TenancyError(f"unknown jurisdiction {jurisdiction!r}")
    if not is_time_zone(timezone):
        raise TenancyError(f"unknown time zone {timezone!r}")
    if await tenant_by_name(session, name) is not None:
        raise TenancyError(f"tenant {name!r} already exists")
    tenant = Tenant(name=name, sandbox=sandbox, jurisdiction=jurisdiction, timezone=timezone)
    session.add(tenant)
    await session.flush()
    return tenant


async def tenant_by_name(session: AsyncSession, name: str) -> Tenant | None:
    return (await session.scalars(select(Tenant).where(Tenant.name == name))).one_or_none()


async def tenant_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Tenant)) or 0)


async def create_key(
    session: AsyncSession, tenant_name: str, scopes: list[str], partner: str | None = None
) -> IssuedKey:
    tenant = await tenant_by_name(session, tenant_name)
    if tenant is None:
        raise TenancyError(f"no tenant {tenant_name!r}")
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown or not scopes:
        raise TenancyError(
            f"scopes must be some of {', '.join(ALL_SCOPES)}; got {unknown or 'none'}"
        )
    if partner is not None and not 1 <= len(partner.strip()) <= 100:
        raise TenancyError("a partner has 1 to 100 characters")
    generated = generate_key()
    session.add(
        ApiKey(
            tenant_id=tenant.id,
            prefix=generated.prefix,
            digest=generated.digest,
            scopes=sorted(set(scopes)),
            partner=partner.strip() if partner else None,
        )
    )
    await session.flush()
    return IssuedKey(generated.key, generated.prefix, tenant.name, sorted(set(scopes)), partner)


async def revoke_key(session: AsyncSession, prefix: str) -> bool:
    key = (
        await session.scalars(
            select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
        )
    ).one_or_none()
    if key is None:
        return False
    key.revoked_at = system_now()
    await session.flush()
    return True
