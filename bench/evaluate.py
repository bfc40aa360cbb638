"""Evaluation throughput over N demo accounts: the first pass (every account new: tiered, and
its dialer queue built), the recurring full pass a day later (every delinquent account due
again), a periodic pass where 5 % are due, then a policy simulation over the portfolio.
Prints accounts/s for each and checks that the periodic pass touches only due accounts.

    .venv/bin/python bench/evaluate.py [--accounts 1000000] [--due-share 0.05] [--processes 2]

Uses DATABASE_URL when set, else an embedded PostgreSQL under .data/bench-pg. It creates
(and afterwards drops) a scratch database of its own (`--database NAME`, else a random name).
`--processes N` runs the full pass as `tactful evaluate --processes N` does (N processes of
two workers each; 1: in-process); the periodic pass runs in-process, as `tactful serve`'s
background evaluator does.
"""

import argparse
import asyncio
import os
import platform
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import cpu_seconds

from app.auth import Principal
from app.clock import TenantClock
from app.config import Settings, async_database_url
from app.db.embedded import EmbeddedPostgres
from app.db.migrations import upgrade
from app.db.resolve import with_database
from app.db.session import create_engine
from app.demo.loader import load_demo
from app.evaluation.processes import evaluate_tenants_in_processes
from app.evaluation.runner import Totals, evaluate_tenant
from app.models import Tenant
from app.policy.document import DEFAULT_POLICY, PolicyDocument
from app.policy_api.service import simulate
from app.tenancy import service as tenancy


async def admin(dsn: str, sql: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(async_database_url(dsn), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


async def make_due(conn: AsyncConnection, tenant_id: int, at: datetime, share: float) -> int:
    """Freeze the tenant's clock at `at` and make a random `share` of its delinquent accounts
    due just before it; returns how many are due."""
    # A million-row UPDATE may outlast the service's statement timeout on a busy machine.
    await conn.execute(text("SET LOCAL statement_timeout = 0"))
    await conn.execute(
        text("UPDATE tenants SET clock_frozen_at = :at WHERE id = :t"), {"at": at, "t": tenant_id}
    )
    result = await conn.execute(
        text(
            "UPDATE evaluation_schedule AS s"
            " SET next_evaluation_at = CAST(:at AS timestamptz) - interval '1 s'"
            " FROM accounts AS a WHERE s.tenant_id = :t AND a.tenant_id = :t"
            " AND a.id = s.account_id AND a.status = 'delinquent' AND random() < :share"
        ),
        {"at": at, "t": tenant_id, "share": share},
    )
    return int(getattr(result, "rowcount", 0))


async def reload(sessionmaker: async_sessionmaker[AsyncSession], tenant_id: int) -> Tenant:
    async with sessionmaker() as session:
        tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None
        return tenant


async def evaluate_pass(
    sessionmaker: async_sessionmaker[AsyncSession],
    url: str,
    settings: Settings,
    tenant: Tenant,
    batch: int,
    processes: int,
) -> Totals:
    if processes == 1:
        return await evaluate_tenant(sessionmaker, tenant, batch)
    return await asyncio.to_thread(
        evaluate_tenants_in_processes, url, settings, [tenant.id], processes, batch
    )


def load() -> str:
    return f"load average {os.getloadavg()[0]:.2f} (shared machine)"


async def bench(
    url: str, accounts: int, due_share: float, batch: int, simulate: bool, processes: int
) -> None:
    settings = Settings(database_url=url, db_pool_size=4)
    engine = create_engine(url, settings)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    async with sessionmaker() as session:
        tenant = await tenancy.create_tenant(session, "bench", sandbox=True)
        await session.commit()

    async def timed_pass(name: str, due: int) -> None:
        started, cpu = time.perf_counter(), cpu_seconds()
        totals = await evaluate_pass(sessionmaker, url, settings, tenant, batch, processes)
        took, busy = time.perf_counter() - started, (cpu_seconds() - cpu)
        print(
            f"{name}, {processes} process(es): {totals.evaluated:,} accounts ({due:,} due) in "
            f"{took:.1f} s = {totals.evaluated / took:,.0f} accounts/s; {totals.changed:,} "
            f"changed; whole machine's CPU {busy / took:.2f} cores; {load()}"
        )

    now = tenant.clock_frozen_at
    assert now is None
    async with engine.connect() as conn:
        started = time.perf_counter()
        wall = datetime.now(UTC)
        loaded = await load_demo(conn, tenant.id, accounts, today=wall.date(), now=wall, seed=7)
        print(f"loaded {loaded.accounts:,} demo accounts in {time.perf_counter() - started:.1f} s")
    async with engine.begin() as conn:
        # Freeze the tenant's clock two days on and make every delinquent account due.
        at = wall + timedelta(days=2)
        due = await make_due(conn, tenant.id, at, share=1.0)
        await conn.execute(text("ANALYZE"))
    tenant = await reload(sessionmaker, tenant.id)
    print(f"before the first pass: {load()}")
    await timed_pass("first pass (tiers every new account, builds its dialer queue)", due)

    async with engine.begin() as conn:
        # A day on, every delinquent account due again: the recurring full pass.
        at = at + timedelta(days=1)
        due = await make_due(conn, tenant.id, at, share=1.0)
        await conn.execute(text("ANALYZE accounts"))
    tenant = await reload(sessionmaker, tenant.id)
    await timed_pass("full pass (a day later, every account due)", due)

    async with engine.begin() as conn:
        at = at + timedelta(hours=1)
        await conn.execute(text("SET LOCAL statement_timeout = 0"))
        await conn.execute(
            text(
                "UPDATE evaluation_schedule SET next_evaluation_at = :later WHERE tenant_id = :t "
                "AND next_evaluation_at IS NOT NULL"
            ),
            {"later": at + timedelta(days=30), "t": tenant.id},
        )
        due = await make_due(conn, tenant.id, at, share=due_share)
        await conn.execute(text("ANALYZE accounts"))
    tenant = await reload(sessionmaker, tenant.id)
    started = time.perf_counter()
    # The periodic pass runs as `tactful serve`'s background evaluator does: in-process.
    totals = await evaluate_pass(sessionmaker, url, settings, tenant, batch, 1)
    periodic = time.perf_counter() - started
    print(
        f"periodic pass: {totals.evaluated:,} of {due:,} due accounts in {periodic:.1f} s "
        f"= {totals.evaluated / periodic:,.0f} accounts/s; "
        f"touched only due: {totals.evaluated == due}; {load()}"
    )
    if simulate:
        await simulation(sessionmaker, tenant)
    await engine.dispose()


async def simulation(sessionmaker: async_sessionmaker[AsyncSession], tenant: Tenant) -> None:
    """POST /v1/policy/simulate's work over the whole portfolio, with a stricter ladder."""
    document = DEFAULT_POLICY.model_dump(mode="json")
    document["ladder"][1]["advance_when"] = [{"dpd_at_least": 5}]
    candidate = PolicyDocument.model_validate(document)
    clock = TenantClock.of(tenant)
    principal = Principal(
        tenant.id, tenant.name, tenant.jurisdiction, clock, 0, "bench", frozenset(), None
    )
    async with sessionmaker() as session:
        started = time.perf_counter()
        result = await simulate(session, principal, candidate)
        took = time.perf_counter() - started
    print(
        f"simulation: {result.accounts:,} accounts in {took:.1f} s "
        f"= {result.accounts / took:,.0f} accounts/s; {result.stage_changes:,} stage moves"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--due-share", type=float, default=0.05)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--no-simulate", action="store_true")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--database", help="the scratch database's name (dropped at the end)")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    server = None
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        server = EmbeddedPostgres(Settings().data_dir.resolve() / "bench-pg")
        dsn = server.start()
    name = args.database or f"tactful_bench_{uuid.uuid4().hex[:6]}"
    asyncio.run(admin(dsn, f'CREATE DATABASE "{name}"'))
    url = with_database(dsn, name)
    try:
        upgrade(url)
        asyncio.run(
            bench(
                url,
                args.accounts,
                args.due_share,
                args.batch,
                not args.no_simulate,
                args.processes,
            )
        )
    finally:
        asyncio.run(admin(dsn, f'DROP DATABASE "{name}" WITH (FORCE)'))
        if server is not None and server.started_here:
            server.stop()


if __name__ == "__main__":
    main()
