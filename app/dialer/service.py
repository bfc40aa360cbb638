"""Claims, outcomes and releases: the dialer's use cases.

A lease is a row state committed with the request (the route commits at its boundary), so no
transaction stays open while the call happens.
"""

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import load_account
from app.auth import Principal
from app.dialer import rules
from app.dialer.generation_repository import GenerationRepository
from app.dialer.leases import LeaseRepository
from app.dialer.repository import Candidate, ClaimScope, QueueRepository, Refusal
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


def _one_per_debtor(picked: list[tuple[Candidate, bool]], busy: set[int]) -> list[Candidate]:
    """At most one live lease per debtor: the first (highest priority) task of each debtor
    whose lock this claim holds and that no earlier round of it looked at."""
    chosen, seen = [], set(busy)
    for candidate, debtor_locked in picked:
        if debtor_locked and candidate.debtor_id not in seen:
            seen.add(candidate.debtor_id)
            chosen.append(candidate)
    return chosen


async def claim(session: AsyncSession, principal: Principal, body: ClaimIn) -> Claimed:
    scope = _scope(principal, body)
    if scope is None:
        return Claimed(ClaimOut(tasks=[]))
    tenant_id, now = principal.tenant_id, principal.clock.now()
    queue = QueueRepository(session)
    expires_at = now + timedelta(seconds=body.lease_seconds)
    leased: list[tuple[Candidate, uuid.UUID, rules.Allowed]] = []
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
        seen.update(c.id for c, _ in picked)
        chosen = _one_per_debtor(picked, busy_debtors)
        busy_debtors |= {c.debtor_id for c, _ in picked}
        verdicts = await rules.decide_many(
            session, tenant_id, principal.clock.timezone, chosen, now, body.lease_seconds
        )
        allowed: dict[int, rules.Allowed] = {}
        refused: list[Refusal] = []
        for candidate in chosen:
            verdict = verdicts[candidate.id]
            if isinstance(verdict, rules.Allowed):
                allowed[candidate.id] = verdict
            else:
                refused.append(Refusal(candidate, verdict.next_allowed_at, verdict.rules))
                blocks.update(verdict.rules)
        taken = await queue.lease_and_refuse(
            tenant_id,
            [(c, uuid.uuid4()) for c in chosen if c.id in allowed],
            refused,
            key_id=principal.key_id,
            agent=body.agent,
            now=now,
            expires_at=expires_at,
        )
        leased.extend((c, lease_id, allowed[c.id]) for c, lease_id in taken)
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
            talking_points=verdict.talking_points,
        )
        for candidate, lease_id, verdict in leased
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
    account = await load_account(session, principal, found.account_ref, for_update=True)
    lease, task_lease_id = await leases.lock(principal.tenant_id, found)
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
    stale = lease.expires_at <= now or task_lease_id != lease.id
    await leases.finish(
        principal.tenant_id,
        lease,
        interaction_id,
        finish_task=task_lease_id in (None, lease.id),
        now=now,
    )
    if lease.purpose in FOLLOW_UP_PURPOSES:
        await GenerationRepository(session).finish_follow_up(
            principal.tenant_id, lease.account_id, lease.purpose
        )
    effects = [{"type": "stale_lease", "task_id": str(task_id)}] if stale else []
    data = body.model_dump(mode="json", exclude={"id", "contact_id"})
    interaction = InteractionIn.model_validate(
        {**data, "id": str(interaction_id), "contact_id": str(lease.contact_id)}
    )
    recorded, _ = await record_interaction(
        session,
        principal,
        account.ref,
        interaction,
        extra_effects=effects,
        account=account,
        new_id=body.id is None,
    )
    return recorded


async def release(session: AsyncSession, principal: Principal, task_id: uuid.UUID) -> ReleaseOut:
    """Give the work back unused; only the live lease may."""
    leases, now = LeaseRepository(session), principal.clock.now()
    if await leases.release(principal.tenant_id, task_id, partner=principal.partner, now=now):
        return ReleaseOut(task_id=task_id, released_at=now)
    if await leases.get(principal.tenant_id, task_id, partner=principal.partner) is None:
        raise NotFound(f"No task {task_id}.")
    raise Conflict("This task's lease is no longer live.")
