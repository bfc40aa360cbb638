"""Load a generated demo portfolio with PostgreSQL COPY, one transaction per chunk.

Ids for the identity columns (debtors, accounts) are reserved up front for the whole load:
under `LOCK TABLE ... IN SHARE ROW EXCLUSIVE MODE` (which waits for writers in flight and
keeps new ones out), the block starts after both `max(id)` (over all tenants: the identity
sequence is shared) and the sequence's last value, and the sequence is moved past the block
before the lock is released. Concurrent writers then take
ids beyond the block while the chunks load, so nothing collides and the lock is held briefly.
Unused debtor ids at the end of the block (debtors with two accounts) are simply skipped.

The next chunk is generated in a worker thread while the current one is copied, so two
chunks are in memory at a time (about 400 MB at 50,000 accounts each).
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.demo.generator import TABLES, Batch, Start, generate
from app.evaluation.summary import refresh_summaries_on

CHUNK_ACCOUNTS = 50_000

# The first id of a block of :count, with the identity sequence moved to its end.
_RESERVE = """
    SELECT setval(seq, greatest(
               (SELECT coalesce(max(id), 0) FROM {table}),
               coalesce(pg_sequence_last_value(seq), 0)) + :count) - :count + 1
    FROM (SELECT pg_get_serial_sequence('{table}', 'id')::regclass AS seq) AS s
"""


@dataclass(slots=True)
class LoadResult:
    tenant_id: int
    accounts: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    seconds: float = 0.0
    first_account_id: int = 0
    first_ordinal: int = 0

    @property
    def accounts_per_second(self) -> float:
        return self.accounts / self.seconds if self.seconds > 0 else 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


@asynccontextmanager
async def _transaction(conn: AsyncConnection) -> AsyncIterator[None]:
    """Its own transaction; a savepoint when the caller already holds one (as tests do)."""
    if conn.in_transaction():
        async with conn.begin_nested():
            yield
    else:
        async with conn.begin():
            yield


async def reserve(conn: AsyncConnection, tenant_id: int, accounts: int) -> Start:
    """Reserve `accounts` account ids and as many debtor ids; the ordinal continues the
    tenant's portfolio, so refs never repeat."""
    async with _transaction(conn):
        await conn.execute(text("LOCK TABLE debtors, accounts IN SHARE ROW EXCLUSIVE MODE"))
        ids = []
        for table in ("debtors", "accounts"):
            sql = text(_RESERVE.format(table=table))
            ids.append(int((await conn.execute(sql, {"count": accounts})).scalar_one()))
        ordinal = (
            await conn.execute(
                text("SELECT count(*) FROM accounts WHERE tenant_id = :t"), {"t": tenant_id}
            )
        ).scalar_one()
    return Start(tenant_id, debtor_id=ids[0], account_id=ids[1], ordinal=int(ordinal))


async def copy_batch(conn: AsyncConnection, batch: Batch) -> None:
    """COPY every table of the batch in one transaction (a savepoint inside one)."""
    async with _transaction(conn):
        # Also begins the driver's transaction, before COPY runs on the driver connection.
        await conn.execute(text("SET LOCAL statement_timeout = 0"))
        await conn.execute(text("SET LOCAL synchronous_commit = off"))
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        for table, rows in batch.tables().items():
            if rows:
                await driver.copy_records_to_table(table, records=rows, columns=TABLES[table])
        if batch.accounts:
            columns = TABLES["accounts"]
            tenant_id = int(batch.accounts[0][columns.index("tenant_id")])  # type: ignore[call-overload]
            ids = [int(row[columns.index("id")]) for row in batch.accounts]  # type: ignore[call-overload]
            await refresh_summaries_on(conn, tenant_id, ids)


async def load_demo(
    conn: AsyncConnection,
    tenant_id: int,
    accounts: int,
    *,
    today: date,
    now: datetime,
    seed: int = 1,
    chunk_accounts: int = CHUNK_ACCOUNTS,
    progress: Callable[[LoadResult], None] | None = None,
) -> LoadResult:
    """Append `accounts` generated accounts (and their rows) to the tenant's portfolio.

    `today` is the tenant's local date and `now` its clock; a chunk is committed (or released,
    inside a caller's transaction) before the next one starts.
    """
    if accounts < 0 or chunk_accounts < 1:
        raise ValueError("accounts must be >= 0 and chunk_accounts >= 1")
    result = LoadResult(tenant_id)
    if accounts == 0:
        return result
    began = time.perf_counter()
    start = await reserve(conn, tenant_id, accounts)
    result.first_account_id, result.first_ordinal = start.account_id, start.ordinal

    def generating(offset: int, debtor_id: int) -> asyncio.Task[Batch]:
        count = min(chunk_accounts, accounts - offset)
        where = Start(tenant_id, debtor_id, start.account_id + offset, start.ordinal + offset)
        return asyncio.create_task(asyncio.to_thread(generate, seed, count, where, today, now))

    offset, debtor_id = 0, start.debtor_id
    upcoming: asyncio.Task[Batch] | None = generating(offset, debtor_id)
    try:
        while upcoming is not None:
            batch = await upcoming
            offset += len(batch.accounts)
            debtor_id += len(batch.debtors)
            # The next chunk is generated in a thread while this one is copied.
            upcoming = generating(offset, debtor_id) if offset < accounts else None
            await copy_batch(conn, batch)
            result.accounts += len(batch.accounts)
            for table, rows in batch.tables().items():
                result.rows[table] += len(rows)
            result.seconds = time.perf_counter() - began
            if progress is not None:
                progress(result)
    finally:
        if upcoming is not None:
            upcoming.cancel()
    return result


async def analyze_loaded(conn: AsyncConnection) -> None:
    """Fresh statistics for the tables a load filled: until autovacuum gets to them, plans
    would treat them as the (nearly) empty tables they were."""
    for table in TABLES:
        await conn.execute(text(f"ANALYZE {table}"))  # a fixed table name, no input
    await conn.commit()
