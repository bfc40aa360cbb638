"""The periodic evaluator: only due accounts, each once per due time, safe in parallel."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.demo.loader import load_demo
from app.evaluation.processes import evaluate_tenants_in_processes
from app.evaluation.runner import evaluate_all, evaluate_tenant
from app.models import Tenant
from app.tenancy import service as tenancy
from tests.conftest import committed_key
from tests.factories import account_body, interaction_body

START = datetime(2031, 11, 1, 12, tzinfo=UTC)


async def _portfolio(sessionmaker: async_sessionmaker[AsyncSession], count: int) -> Tenant:
    """`count` accounts in `reminder`, each with a reminder attempt, created at START."""
    from httpx import ASGITransport, AsyncClient

    from app.config import Settings
    from app.main import create_app

    key = await committed_key(sessionmaker, "evalco", sandbox=True, timezone="UTC")
    async with sessionmaker() as session:
        await session.execute(
            text("UPDATE tenants SET clock_frozen_at = :at WHERE name = 'evalco'"), {"at": START}
        )
        await session.commit()
    app = create_app(Settings(database_url="postgresql://unused/x"), sessionmaker=sessionmaker)
    auth = {"Authorization": f"Bearer {key}"}
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        for n in range(count):
            body = account_body(due_date="2031-11-01")
            body["debtor"] = {**body["debtor"], "customer_ref": f"c-{n}"}
            await client.put(f"/v1/accounts/E-{n}", json=body, headers=auth)
            contacts = (await client.get(f"/v1/accounts/E-{n}/contacts", headers=auth)).json()
            phone = next(c["id"] for c in contacts["items"] if c["relationship"] == "self")
            await client.post(
                f"/v1/accounts/E-{n}/interactions",
                json=interaction_body(phone, occurred_at=START.isoformat()),
                headers=auth,
            )
    async with sessionmaker() as session:
        await session.execute(
            text("UPDATE tenants SET clock_frozen_at = :at WHERE name = 'evalco'"),
            {"at": START + timedelta(days=2)},
        )
        await session.commit()
        return (await session.scalars(select(Tenant).where(Tenant.name == "evalco"))).one()


async def test_parallel_passes_evaluate_each_due_account_once(
    committed_sessionmaker: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    tenant = await _portfolio(committed_sessionmaker, 40)
    first, second = await asyncio.gather(
        evaluate_tenant(committed_sessionmaker, tenant, batch_size=7),
        evaluate_tenant(committed_sessionmaker, tenant, batch_size=7),
    )
    assert first.evaluated + second.evaluated == 40
    async with engine.connect() as conn:
        moves = (
            await conn.execute(
                text("SELECT account_id, count(*) FROM stage_history GROUP BY account_id")
            )
        ).all()
        stages = (await conn.execute(text("SELECT DISTINCT stage FROM accounts"))).scalars().all()
    assert len(moves) == 40 and all(count == 1 for _, count in moves)
    assert stages == ["early"]

    # Nothing is due now: another pass touches no account.
    again = await evaluate_all(committed_sessionmaker)
    assert again.evaluated == 0


async def test_evaluating_in_processes_evaluates_each_due_account_once(
    committed_sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    settings: Settings,
) -> None:
    tenant = await _portfolio(committed_sessionmaker, 30)
    assert settings.database_url
    totals = await asyncio.to_thread(
        evaluate_tenants_in_processes, settings.database_url, settings, [tenant.id], 2, 4
    )
    assert totals.evaluated == 30
    async with engine.connect() as conn:
        moves = (
            await conn.execute(
                text("SELECT account_id, count(*) FROM stage_history GROUP BY account_id")
            )
        ).all()
    assert len(moves) == 30 and all(count == 1 for _, count in moves)
    assert (await evaluate_all(committed_sessionmaker)).evaluated == 0


async def test_concurrent_passes_over_a_larger_book_evaluate_each_due_account_once(
    committed_sessionmaker: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    """Batches overlap in time here: a pass's claim may read an account's schedule just
    before another pass commits its evaluation of it, and must then skip it."""
    async with committed_sessionmaker() as session:
        tenant = await tenancy.create_tenant(session, "bigbook", sandbox=True)
        await session.commit()
    async with engine.connect() as conn:
        await load_demo(conn, tenant.id, 3000, today=START.date(), now=START, seed=3)
        await conn.commit()
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE tenants SET clock_frozen_at = :at WHERE id = :t"),
            {"at": START + timedelta(days=2), "t": tenant.id},
        )
        due = (
            await conn.execute(
                text("SELECT count(*) FROM evaluation_schedule WHERE next_evaluation_at <= :at"),
                {"at": START + timedelta(days=2)},
            )
        ).scalar_one()
    async with committed_sessionmaker() as session:
        tenant = (await session.scalars(select(Tenant).where(Tenant.id == tenant.id))).one()
    passes = await asyncio.gather(
        *(evaluate_tenant(committed_sessionmaker, tenant, batch_size=150) for _ in range(3))
    )
    assert due > 2000 and sum(p.evaluated for p in passes) == due
