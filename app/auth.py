"""API keys, scopes and tenant/partner scoping, as FastAPI dependencies.

A key is `tf_<prefix>_<secret>`: 48 random bits of prefix to find it, 256 random bits of
secret. Only the SHA-256 digest of the whole key is stored; a fast digest is enough because
the key is random, not a password.
"""

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import idempotency
from app.clock import TenantClock
from app.errors import Forbidden, Unauthorized
from app.models import ApiKey, Tenant
from app.models.enums import Scope
from app.policy_api.repository import PolicyRepository

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer tf_...`")


@dataclass(frozen=True, slots=True)
class GeneratedKey:
    key: str
    prefix: str
    digest: bytes


def generate_key() -> GeneratedKey:
    prefix = secrets.token_hex(6)
    key = f"tf_{prefix}_{secrets.token_urlsafe(32)}"
    return GeneratedKey(key=key, prefix=prefix, digest=digest_of(key))


def digest_of(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def prefix_of(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "tf" or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1]


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: int
    tenant_name: str
    jurisdiction: str
    clock: TenantClock
    key_id: int
    key_prefix: str
    scopes: frozenset[str]
    partner: str | None

    @property
    def actor(self) -> str:
        return f"key:{self.key_prefix}"


def get_session(request: Request) -> AsyncSession:
    session: AsyncSession = request.state.session
    return session


DbSession = Annotated[AsyncSession, Depends(get_session)]


async def authenticate(
    request: Request,
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    key = credentials.credentials
    prefix = prefix_of(key)
    if prefix is None:
        raise Unauthorized()
    row = (
        await session.execute(
            select(ApiKey, Tenant)
            .join(Tenant, Tenant.id == ApiKey.tenant_id)
            .where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
        )
    ).first()
    if row is None or not hmac.compare_digest(row.ApiKey.digest, digest_of(key)):
        raise Unauthorized()
    api_key, tenant = row.ApiKey, row.Tenant
    principal = Principal(
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        jurisdiction=tenant.jurisdiction,
        clock=TenantClock.of(tenant),
        key_id=api_key.id,
        key_prefix=api_key.prefix,
        scopes=frozenset(api_key.scopes),
        partner=api_key.partner,
    )
    request.state.principal = principal
    return principal


def require(*any_of: Scope) -> Callable[..., Awaitable[Principal]]:
    """A dependency: authenticated, holding one of `any_of`; then POST/PUT idempotency."""

    async def dependency(
        request: Request,
        session: DbSession,
        principal: Annotated[Principal, Depends(authenticate)],
    ) -> Principal:
        if not principal.scopes.intersection(any_of):
            needed = " or ".join(scope.value for scope in any_of)
            raise Forbidden(f"This API key lacks the {needed} scope.")
        await idempotency.begin(request, session, principal.tenant_id, principal.key_id)
        if request.method != "GET":
            # Every audit row of this request records the policy version in force.
            await PolicyRepository(session).current(principal.tenant_id)
        return principal

    dependency.required_scopes = [scope.value for scope in any_of]  # type: ignore[attr-defined]
    return dependency


AccountsReader = Annotated[Principal, Depends(require(Scope.accounts_read))]
AccountsWriter = Annotated[Principal, Depends(require(Scope.accounts_write))]
EventsWriter = Annotated[Principal, Depends(require(Scope.events_write))]
Dialer = Annotated[Principal, Depends(require(Scope.dialer))]
ReportsReader = Annotated[Principal, Depends(require(Scope.reports_read))]
Admin = Annotated[Principal, Depends(require(Scope.admin))]
