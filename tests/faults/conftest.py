"""Fault tests run real processes: `python -m app.cli serve` against an embedded PostgreSQL of
their own (stopped and restarted here, so never a shared server)."""

import asyncio
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from app.config import async_database_url
from app.db.embedded import EmbeddedPostgres
from app.db.resolve import with_database
from tests.conftest import ROOT
from tests.factories import account_body
from tests.processes import Server, free_port


class Postgres:
    """An embedded server that keeps its port across restarts."""

    def __init__(self, data_dir: Path) -> None:
        self.server = EmbeddedPostgres(data_dir, port=free_port())
        self.dsn = self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()

    def new_database(self) -> str:
        name = f"fault_{uuid.uuid4().hex[:8]}"
        self.server.create_database(name)
        return with_database(self.dsn, name)


@pytest.fixture(scope="package")
def postgres() -> Iterator[Postgres]:
    data_dir = ROOT / ".data" / "fault-pg" / str(os.getpid())
    pg = Postgres(data_dir)
    yield pg
    pg.stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.with_name(f"{data_dir.name}.lock").unlink(missing_ok=True)


@pytest.fixture
async def database(postgres: Postgres) -> str:
    return postgres.new_database()


Spawn = Callable[..., Server]


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """spawn(database_url, **settings) → a Server (not started); all are killed at the end."""
    made: list[Server] = []

    def make(database_url: str, **settings: Any) -> Server:
        server = Server(database_url, tmp_path / f"server-{len(made)}.log", **settings)
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


@pytest.fixture
async def db(database: str) -> AsyncIterator[AsyncConnection]:
    """An autocommit connection to the test's database, for checks and locks."""
    engine = create_async_engine(
        async_database_url(database), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    async with engine.connect() as conn:
        yield conn
    await engine.dispose()


@asynccontextmanager
async def locked(database_url: str, table: str) -> AsyncIterator[None]:
    """Hold an ACCESS EXCLUSIVE lock on `table` (every query on it waits) until exit."""
    engine = create_async_engine(async_database_url(database_url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            yield
            await conn.rollback()
    finally:
        await engine.dispose()


def delinquent_batch(prefix: str, count: int) -> list[dict[str, Any]]:
    """`count` account.delinquent events, each opening its own account."""
    return [
        {
            "id": f"{prefix}-{i}",
            "type": "account.delinquent",
            "occurred_at": "2026-11-01T09:00:00+00:00",
            "account_ref": f"{prefix}-{i}",
            "data": account_body(
                debtor={
                    "name": f"Debtor {i}",
                    "locale": "en-US",
                    "timezone": "America/New_York",
                    "customer_ref": f"{prefix}-c{i}",
                },
                contacts=[],
            ),
        }
        for i in range(count)
    ]


async def wait_for_lock_waiter(conn: AsyncConnection, timeout: float = 30) -> None:
    """Until a server backend is waiting on a lock (its request is in flight, mid-transaction)."""
    deadline = time.monotonic() + timeout
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = 'tactful' AND wait_event_type = 'Lock'"
    )
    while time.monotonic() < deadline:
        if await conn.scalar(query):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no request reached the lock")


async def wait_for_no_server_backends(conn: AsyncConnection, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tactful'")
    while time.monotonic() < deadline:
        if not await conn.scalar(query):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the killed server's backends never went away")
