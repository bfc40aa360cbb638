"""Tests run on real PostgreSQL through the real migrations.

`TEST_DATABASE_URL` names a server to use; without it an embedded server is started under
.data/test-pg/<pid>. Either way the session gets its own freshly migrated database, and
each test runs inside one outer transaction that is rolled back (requests commit to
savepoints).

Property tests draw the same examples on every run (`make test` must not pass or fail by
luck); `make explore` runs them with fresh random examples to find new counterexamples (add
each one found as a plain test).
"""

import asyncio
import os
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from app.config import RateLimit, Settings, async_database_url
from app.db.migrations import upgrade
from app.db.resolve import with_database
from app.main import create_app
from app.tenancy import service as tenancy

hypothesis_settings.register_profile("repeatable", derandomize=True, database=None)
hypothesis_settings.register_profile("explore")  # Hypothesis' defaults: random, remembered
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

ROOT = Path(__file__).resolve().parents[1]
KeyMaker = Callable[..., Awaitable[str]]


def _run_sync(fn: Callable[[], Any]) -> None:
    """Run blocking work that calls asyncio.run() in a thread of its own."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


async def _admin(dsn: str, sql: str) -> None:
    engine = create_async_engine(
        async_database_url(dsn), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


@pytest.fixture(scope="session")
def server_dsn() -> Iterator[str]:
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    from app.db.embedded import EmbeddedPostgres

    # A server of its own per run (initdb takes under a second), so parallel runs never stop
    # each other's database.
    data_dir = ROOT / ".data" / "test-pg" / str(os.getpid())
    server = EmbeddedPostgres(data_dir)
    dsn = server.start()
    yield dsn
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(server_dsn: str) -> Iterator[str]:
    name = f"tactful_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _run_sync(lambda: asyncio.run(_admin(server_dsn, f'CREATE DATABASE "{name}"')))
    url = with_database(server_dsn, name)
    _run_sync(lambda: upgrade(url))
    yield url
    _run_sync(lambda: asyncio.run(_admin(server_dsn, f'DROP DATABASE "{name}" WITH (FORCE)')))


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    # Tests send bursts no client would; tests/test_rate_limits.py sets tight limits itself.
    generous = RateLimit(per_second=10_000, burst=10_000)
    return Settings(
        database_url=database_url, max_body_bytes=256 * 1024, rate_limits={"default": generous}
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    assert settings.database_url
    engine = create_async_engine(async_database_url(settings.database_url), poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        outer = await conn.begin()
        yield conn
        await outer.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@asynccontextmanager
async def api_client(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app in-process, on `sessionmaker`."""
    app = create_app(settings, sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://tactful.test") as http:
        yield http


@pytest.fixture
async def client(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(settings, sessionmaker) as http:
        yield http


@pytest.fixture
def make_key(sessionmaker: async_sessionmaker[AsyncSession]) -> KeyMaker:
    """make_key(tenant, scopes=..., partner=..., **tenant_options) → a fresh API key."""

    async def make(
        tenant: str = "acme",
        scopes: list[str] | None = None,
        partner: str | None = None,
        **tenant_options: Any,
    ) -> str:
        async with sessionmaker() as session:
            if await tenancy.tenant_by_name(session, tenant) is None:
                await tenancy.create_tenant(session, tenant, **tenant_options)
            issued = await tenancy.create_key(
                session, tenant, scopes or tenancy.ALL_SCOPES, partner
            )
            await session.commit()
        return issued.key

    return make


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def table_counts(connection: AsyncConnection) -> dict[str, int]:
    """Row counts of every table, to prove a rejected request changed nothing. Rate-limit
    state is left out: every request, rejected or not, spends from its key's budget."""
    names = (
        await connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'rate_limit_buckets' ORDER BY 1"
            )
        )
    ).scalars()
    counts = {}
    for name in list(names):
        counts[name] = int(
            (await connection.execute(text(f'SELECT count(*) FROM "{name}"'))).scalar_one()
        )
    return counts


@pytest.fixture
async def committed_sessionmaker(
    engine: AsyncEngine,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Real commits, for tests that need concurrent transactions; tables are emptied after."""
    yield async_sessionmaker(engine, expire_on_commit=False)
    async with engine.begin() as conn:
        names = (
            await conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ).scalars()
        await conn.execute(text(f"TRUNCATE {', '.join(names)} CASCADE"))


@pytest.fixture
async def committed_client(
    settings: Settings, committed_sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(settings, committed_sessionmaker) as http:
        yield http


async def committed_key(
    sessionmaker: async_sessionmaker[AsyncSession], tenant: str = "acme", **options: Any
) -> str:
    async with sessionmaker() as session:
        if await tenancy.tenant_by_name(session, tenant) is None:
            await tenancy.create_tenant(session, tenant, **options)
        issued = await tenancy.create_key(session, tenant, tenancy.ALL_SCOPES)
        await session.commit()
    return issued.key
