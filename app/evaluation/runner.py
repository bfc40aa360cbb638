"""The periodic evaluator: a background loop in `tactful serve` and `tactful evaluate`.

It is a transaction boundary like a request: each batch commits on its own.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import idempotency, metrics
from app.clock import TenantClock
from app.evaluation.context import Actor
from app.evaluation.service import evaluate_due
from app.models import Tenant
from app.reports.history import sweep_tenant

log = logging.getLogger("tactful.evaluator")
EVALUATOR = "evaluator"


@dataclass(frozen=True, slots=True)
class Totals:
    evaluated: int = 0
    changed: int = 0

    def __add__(self, other: "Totals") -> "Totals":
        return Totals(self.evaluated + other.evaluated, self.changed + other.changed)


def tenant_actor(tenant: Tenant, name: str = EVALUATOR) -> Actor:
    clock = TenantClock.of(tenant)
    return Actor(tenant.id, clock, name)


async def _worker(
    sessionmaker: async_sessionmaker[AsyncSession], tenant: Tenant, batch_size: int
) -> Totals:
    totals = Totals()
    while True:
        async with sessionmaker() as session:
            result = await evaluate_due(session, tenant_actor(tenant), batch_size)
            await session.commit()
        totals += Totals(result.evaluated, result.changed)
        if result.evaluated < batch_size:
            return totals


async def evaluate_tenant(
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant: Tenant,
    batch_size: int = 1000,
    workers: int = 2,
) -> Totals:
    """Evaluate every due account. Workers claim disjoint batches (SKIP LOCKED), so one
    computes while another waits on the database."""
    results = await asyncio.gather(
        *(_worker(sessionmaker, tenant, batch_size) for _ in range(workers))
    )
    await sweep_tenant(sessionmaker, tenant)
    return sum(results, Totals())


async def evaluate_all(
    sessionmaker: async_sessionmaker[AsyncSession], batch_size: int = 1000
) -> Totals:
    async with sessionmaker() as session:
        tenants = list((await session.scalars(select(Tenant).order_by(Tenant.id))).all())
    totals = Totals()
    for tenant in tenants:
        try:
            totals += await evaluate_tenant(sessionmaker, tenant, batch_size)
        except Exception as exc:
            # One tenant's failure must not stop the others' evaluation.
            log.warning(
                "tenant evaluation failed",
                extra={"tenant_id": tenant.id, "error": type(exc).__name__},
            )
    async with sessionmaker() as session:
        await idempotency.purge_expired(session)
        await session.commit()
    return totals


async def run_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    interval: float,
    stop: asyncio.Event | None = None,
) -> None:
    """A pass every `interval` seconds until `stop` is set; a pass under way is finished."""
    stop = stop or asyncio.Event()
    metrics.evaluator_started()
    while not stop.is_set():
        try:
            totals = await evaluate_all(sessionmaker)
            metrics.evaluator_pass_finished(totals.evaluated)
            if totals.evaluated:
                log.info(
                    "evaluation pass",
                    extra={"evaluated": totals.evaluated, "changed": totals.changed},
                )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            metrics.evaluator_passes.labels("failed").inc()
            log.warning("evaluation pass failed", extra={"error": type(exc).__name__})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
