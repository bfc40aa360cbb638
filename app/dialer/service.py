"""Claims, outcomes and releases: the dialer's use cases.

A lease is a row state committed with the request (the route commits at its boundary), so no
transaction stays open while the call happens.
"""

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import load_account
from app.auth import Principal
from app.dialer import rules
from app.dialer.generation_repository import GenerationRepository
from app.dialer.leases import LeaseRepository
from app.dialer.repository import Candidate, ClaimScope, QueueRepository
from app.dialer.schemas import ClaimIn, ClaimOut, OutcomeIn, ReleaseOut, TaskOut
from app.errors import Conflict, NotFound, invalid
from app.interactions.schemas import InteractionIn, InteractionOut
from app.interactions.service import FUTURE_TOLERANCE, record_interaction

FOLLOW_UP_PURPOSES = frozenset({"payment_confirmation", "collect", "promise_reminder"})
CLAIM_ROUNDS = 3  # refused candidates are replaced, a bounded number of times


@dataclass
class Claimed:
    out: ClaimOut
    blocks: Counter[str] = field(default_factory=Counter)  # refused candidates, per rule


def _scope(principal: Principal, body: ClaimIn) -> ClaimScope | None:
    wanted = body.filter
    partner = wanted.partner if wanted else None
    if principal.partner is not None:
        if partner is not None and partner != principal.partner:
            return None  # a bound key sees its own placements only
        partner = principal.partner
    return ClaimScope(
        tiers=[t.value for t in wanted.tiers] if wanted and wanted.tiers else None,
        stages=[s.value for s in wanted.stages] if wanted and wanted.stages else None,
        partner=partner,
        key_partner=principal.partner,
        agent=body.agent,
    )


def _one_per_debtor(candidates: list[Candidate], free: set[int]) -> list[Candidate]:
    """At most one live lease per debtor: the first (highest priority) task of each."""
    chosen, seen = [], set()
    for candidate in candidates:
        if candidate.debtor_id in free and candidate.debtor_id not in seen:
            seen.add(candidate.debtor_id)
            chosen.append(candidate)
    return chosen


async def claim(session: AsyncSession, principal: Principal, body: ClaimIn) -> Claimed:
    scope = _scope(principal, body)
    if scope is None:
        return Claimed(ClaimOut(tasks=[]))
    tenant_id, now = principal.tenant_id, principal.clock.now()
    queue = QueueRepository(session)
    await queue.return_expired(tenant_id, now)
    expires_at = now + timedelta(seconds=body.lease_seconds)
    leased: list[tuple[Candidate, rules.Allowed]] = []
    seen: set[int] = set()
    busy_debtors: set[int] = set()
    blocks: Counter[str] = Counter()
    for _ in range(CLAIM_ROUNDS):
        wanted = body.limit - len(leased)
        if wanted <= 0:
            break
        picked = await queue.pick(tenant_id, scope, now, wanted, exclude=seen)
        if not picked:
            break
        seen.update(c.id for c in picked)
        debtors = {c.debtor_id for c in picked} - busy_debtors
        free = await queue.lock_free_debtors(tenant_id, debtors, now)
        busy_debtors |= {c.debtor_id for c in picked}
        chosen = _one_per_debtor(picked, free)
        verdicts = await rules.decide_many(
            session, tenant_id, principal.clock.timezone, chosen, now, body.lease_seconds
        )
        refused: list[tuple[Candidate, datetime | None, Sequence[str]]] = []
        for candidate in chosen:
            verdict = verdicts[candidate.id]
            if isinstance(verdict, rules.Allowed):
                leased.append((candidate, verdict))
            else:
                refused.append((candidate, verdict.next_allowed_at, verdict.rules))
                blocks.update(verdict.rules)
        await queue.refuse(tenant_id, refused, now)
    verdicts_by_task = {candidate.id: verdict for candidate, verdict in leased}
    lease_ids = await queue.lease(
        tenant_id,
        [(candidate, uuid.uuid4()) for candidate, _ in leased],
        key_id=principal.key_id,
        agent=body.agent,
        now=now,
        expires_at=expires_at,
    )
    tasks = [
        TaskOut(
            task_id=lease_id,
            account_ref=candidate.account_ref,
            contact_id=candidate.contact_id,
            channel="call",
            address=candidate.address,
            relationship=candidate.relationship,
            purpose=candidate.purpose,
            stage=candidate.stage,
            tier=candidate.tier,
            priority=candidate.priority,
            lease_expires_at=expires_at,
            talking_points=verdicts_by_task[candidate.id].talking_points,
        )
        for candidate, lease_id in lease_ids
    ]
    return Claimed(ClaimOut(tasks=tasks), blocks)


async def report_outcome(
    session: AsyncSession, principal: Principal, task_id: uuid.UUID, body: OutcomeIn
) -> InteractionOut:
    """Record the call; end the lease if it is still this one's. An expired lease's outcome is
    recorded and flagged `stale_lease` without touching whoever holds the work now."""
    leases = LeaseRepository(session)
    found = await leases.get(principal.tenant_id, task_id, partner=principal.partner)
    if found is None:
        raise NotFound(f"No task {task_id}.")
    lease, ref = found
    await load_account(session, principal, ref, for_update=True)
    task = await leases.lock(principal.tenant_id, lease)
    if lease.released_at is not None:
        raise Conflict("This task was released unused; an outcome cannot be recorded for it.")
    if lease.interaction_id is not None:
        raise Conflict("This task's outcome was already recorded.")
    now = principal.clock.now()
    if body.occurred_at < lease.leased_at:
        raise invalid(("body", "occurred_at"), "is before the task was leased")
    if body.occurred_at > now + FUTURE_TOLERANCE:
        raise invalid(("body", "occurred_at"), "is in the future")
    if body.contact_id is not None and body.contact_id != lease.contact_id:
        raise invalid(("body", "contact_id"), "is not the task's contact")
    interaction_id = body.id or uuid.uuid4()
    stale = lease.expires_at <= now or task.lease_id != lease.id
    if task.lease_id in (None, lease.id):
        await leases.finish_task(task, now)
    lease.interaction_id = interaction_id
    lease.ended_at = func.clock_timestamp()
    if lease.purpose in FOLLOW_UP_PURPOSES:
        await GenerationRepository(session).finish_follow_up(
            principal.tenant_id, lease.account_id, lease.purpose
        )
    await session.flush()
    effects = [{"type": "stale_lease", "task_id": str(task_id)}] if stale else []
    data = body.model_dump(mode="json", exclude={"id", "contact_id"})
    interaction = InteractionIn.model_validate(
        {**data, "id": str(interaction_id), "contact_id": str(lease.contact_id)}
    )
    recorded, _ = await record_interaction(
        session, principal, ref, interaction, extra_effects=effects
    )
    return recorded


async def release(session: AsyncSession, principal: Principal, task_id: uuid.UUID) -> ReleaseOut:
    """Give the work back unused; only the live lease may."""
    leases = LeaseRepository(session)
    found = await leases.get(principal.tenant_id, task_id, partner=principal.partner)
    if found is None:
        raise NotFound(f"No task {task_id}.")
    lease, ref = found
    await load_account(session, principal, ref, for_update=True)
    task = await leases.lock(principal.tenant_id, lease)
    now = principal.clock.now()
    live = (
        lease.released_at is None
        and lease.interaction_id is None
        and lease.expires_at > now
        and task.lease_id == lease.id
    )
    if not live:
        raise Conflict("This task's lease is no longer live.")
    await leases.release_task(task, now)
    lease.released_at = now
    lease.ended_at = func.clock_timestamp()
    await session.flush()
    return ReleaseOut(task_id=task_id, released_at=now)
