"""The sandbox test clock, per sandbox tenant; live tenants get 404.

It follows real time until first set. The first set may freeze any instant, past or future (as
a payment provider's test clock is created at any time), so a scenario dated in the past replays
the same on every day; from then on the frozen clock only moves forward.
"""

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.repository import AuditRepository
from app.auth import Principal
from app.clock import TenantClock
from app.errors import NotFound, invalid
from app.evaluation.context import Actor
from app.evaluation.service import evaluate_due
from app.logs import request_id_var
from app.models import Tenant
from app.reports.history import sweep_history
from app.sandbox.schemas import ClockIn, ClockOut, EvaluationOut

MAX_BATCHES = 1000


async def _sandbox_tenant(session: AsyncSession, principal: Principal) -> Tenant:
    tenant = await session.get(Tenant, principal.tenant_id, with_for_update=True)
    if tenant is None or not tenant.sandbox:
        raise NotFound("Only sandbox tenants have a test clock.")
    return tenant


async def set_clock(session: AsyncSession, principal: Principal, body: ClockIn) -> ClockOut:
    tenant = await _sandbox_tenant(session, principal)
    current = tenant.clock_frozen_at
    if current is not None and body.now < current:
        raise invalid(
            ("body", "now"), f"the test clock only moves forward (it is {current.isoformat()})"
        )
    before = tenant.clock_frozen_at
    tenant.clock_frozen_at = body.now
    AuditRepository(session).record(
        tenant_id=tenant.id,
        actor=principal.actor,
        at=body.now,
        entity="tenant",
        entity_id=tenant.name,
        action="sandbox.clock_set",
        account_id=None,
        before={"now": before.isoformat() if before else None},
        after={"now": body.now.isoformat()},
        request_id=request_id_var.get(),
    )
    await session.flush()
    return ClockOut(now=body.now, frozen=True)


async def read_clock(session: AsyncSession, principal: Principal) -> ClockOut:
    tenant = await _sandbox_tenant(session, principal)
    return ClockOut(now=TenantClock.of(tenant).now(), frozen=tenant.clock_frozen_at is not None)


async def evaluate_now(session: AsyncSession, principal: Principal) -> EvaluationOut:
    tenant = await _sandbox_tenant(session, principal)
    clock = TenantClock.of(tenant)
    actor = replace(Actor.of(principal, request_id_var.get()), clock=clock)
    evaluated = changed = 0
    for _ in range(MAX_BATCHES):
        result = await evaluate_due(session, actor)
        evaluated, changed = evaluated + result.evaluated, changed + result.changed
        if result.evaluated == 0:
            break
    await sweep_history(session, tenant.id, clock.today())
    return EvaluationOut(evaluated=evaluated, changed=changed, as_of=clock.now())
