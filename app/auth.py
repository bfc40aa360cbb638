"""API keys, scopes and tenant/partner scoping, as FastAPI dependencies.

A key is `tf_<prefix>_<secret>`: 48 random bits of prefix to find it, 256 random bits of
secret. Only the SHA-256 digest of the whole key is stored; a fast digest is enough because
the key is random, not a password.
"""

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import idempotency, ratelimit
from app.clock import TenantClock, system_now
from app.errors import Forbidden, Unauthorized
from app.logs import tenant_var
from app.models import ApiKey, Tenant
from app.models.enums import Scope
from app.policy_api.repository import PolicyRepository

LAST_USED_EVERY = timedelta(minutes=1)
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


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only session on the replica (DATABASE_READ_URL) when one is configured, else
    the request's own session on the primary."""
    replica = getattr(request.app.state, "read_sessionmaker", None)
    if replica is None:
        yield get_session(request)
        return
    async with replica() as session:
        await session.execute(text("SET TRANSACTION READ ONLY"))
        yield session


ReadSession = Annotated[AsyncSession, Depends(get_read_session)]


async def _touch(session: AsyncSession, api_key: ApiKey) -> None:
    """Record the key's last use, at most once per LAST_USED_EVERY (not a write per request)."""
    now = system_now()
    if api_key.last_used_at is not None and api_key.last_used_at > now - LAST_USED_EVERY:
        return
    await session.execute(
        update(ApiKey)
        .where(
            ApiKey.tenant_id == api_key.tenant_id,
            ApiKey.id == api_key.id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - LAST_USED_EVERY),
        )
        .values(last_used_at=now)
    )


async def authenticate(
    session: AsyncSession, credentials: HTTPAuthorizationCredentials | None
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
    await _touch(session, api_key)
    return Principal(
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        jurisdiction=tenant.jurisdiction,
        clock=TenantClock.of(tenant),
        key_id=api_key.id,
        key_prefix=api_key.prefix,
        scopes=frozenset(api_key.scopes),
        partner=api_key.partner,
    )


def require(*any_of: Scope) -> Callable[..., Awaitable[Principal]]:
    """A dependency: authenticated, holding one of `any_of`, within its rate limit; then
    POST/PUT idempotency.

    The key, its last use and its rate limit are handled in one short transaction of their
    own, committed before the request's session takes a connection: the rate-limit row is
    locked only for that moment, and a request never holds two connections at once."""
    required = [scope.value for scope in any_of]

    async def dependency(
        request: Request,
        session: DbSession,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        async with request.app.state.sessionmaker() as guard:
            principal = await authenticate(guard, credentials)
            request.state.principal = principal
            tenant_var.set(principal.tenant_id)
            permitted = bool(principal.scopes.intersection(any_of))
            if permitted:
                settings = request.app.state.settings
                request.state.rate_limit_headers = await ratelimit.take(
                    guard, settings, principal.tenant_id, principal.key_id, required
                )
            await guard.commit()
        if not permitted:
            needed = " or ".join(scope.value for scope in any_of)
            raise Forbidden(f"This API key lacks the {needed} scope.")
        await idempotency.begin(request, session, principal.tenant_id, principal.key_id)
        if request.method != "GET":
            # Every audit row of this request records the policy version in force.
            await PolicyRepository(session).current(principal.tenant_id)
        return principal

    dependency.required_scopes = required  # type: ignore[attr-defined]
    return dependency


AccountsReader = Annotated[Principal, Depends(require(Scope.accounts_read))]
AccountsWriter = Annotated[Principal, Depends(require(Scope.accounts_write))]
EventsWriter = Annotated[Principal, Depends(require(Scope.events_write))]
Dialer = Annotated[Principal, Depends(require(Scope.dialer))]
ReportsReader = Annotated[Principal, Depends(require(Scope.reports_read))]
Admin = Annotated[Principal, Depends(require(Scope.admin))]
