"""`tactful evaluate --processes N`: the same claiming workers, in N processes.

Within one process the evaluator's Python (reading rows, the policy, building the writes)
runs on one core however many asyncio workers wait on the database. Each process here opens
its own connection pool and runs `evaluate_tenant`'s workers; batches are claimed with
`FOR UPDATE SKIP LOCKED`, so the processes share the work as the workers of one process do
and each due account is still evaluated once per due time.
"""

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from sqlalchemy import select

from app.config import Settings
from app.db.session import create_engine, create_sessionmaker
from app.evaluation.runner import Totals, evaluate_tenant
from app.memory import tune_garbage_collection
from app.models import Tenant

log = logging.getLogger("tactful.evaluator")


async def _evaluate_in_child(
    url: str, settings: Settings, tenant_id: int, batch_size: int, workers: int
) -> Totals:
    engine = create_engine(url, settings)
    try:
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session:
            tenant = await session.get(Tenant, tenant_id)
        if tenant is None:
            return Totals()
        return await evaluate_tenant(sessionmaker, tenant, batch_size, workers)
    finally:
        await engine.dispose()


def _child(url: str, settings: Settings, tenant_id: int, batch_size: int, workers: int) -> Totals:
    tune_garbage_collection()
    return asyncio.run(_evaluate_in_child(url, settings, tenant_id, batch_size, workers))


def evaluate_tenants_in_processes(
    url: str,
    settings: Settings,
    tenant_ids: list[int],
    processes: int,
    batch_size: int = 2000,
    workers: int = 2,
) -> Totals:
    """Evaluate every due account of these tenants, one tenant after another, each with
    `processes` processes of `workers` workers."""
    totals = Totals()
    context = multiprocessing.get_context("spawn")  # no inherited event loop or connections
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        for tenant_id in tenant_ids:
            jobs = [
                pool.submit(_child, url, settings, tenant_id, batch_size, workers)
                for _ in range(processes)
            ]
            for job in jobs:
                try:
                    totals += job.result()
                except Exception as exc:
                    # One tenant's failure must not stop the others' evaluation.
                    log.warning(
                        "tenant evaluation failed",
                        extra={"tenant_id": tenant_id, "error": type(exc).__name__},
                    )
    return totals


async def tenant_ids(url: str, settings: Settings) -> list[int]:
    engine = create_engine(url, settings)
    try:
        async with create_sessionmaker(engine)() as session:
            return list((await session.scalars(select(Tenant.id).order_by(Tenant.id))).all())
    finally:
        await engine.dispose()
