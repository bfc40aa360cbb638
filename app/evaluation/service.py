"""Evaluate accounts against their tenant's policy and persist the decisions."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.dialer.generation import SinceComputed, since_computed
from app.evaluation.apply import apply_evaluations
from app.evaluation.context import Actor
from app.evaluation.loader import load_facts
from app.evaluation.summary import refresh_summaries
from app.models import Account
from app.policy.evaluation import evaluate
from app.policy.localtime import local_date
from app.policy_api.repository import PolicyRepository


async def reevaluate(
    session: AsyncSession, actor: Actor, account_ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    """After a write: bring the accounts' episode summaries up to date with their rows, then
    re-decide tier, stage and promises now and recompute their dialer tasks; returns what
    changed per account."""
    await refresh_summaries(session, actor.tenant_id, account_ids)
    return await _decide(session, actor, account_ids, after_write=True)


async def _decide(
    session: AsyncSession, actor: Actor, account_ids: list[int], *, after_write: bool
) -> dict[int, list[dict[str, Any]]]:
    """`after_write`: the accounts' rows just changed, so their tasks are recomputed whatever
    the decision; else (a due evaluation) only where the decision or time changed their inputs."""
    policy = await PolicyRepository(session).current(actor.tenant_id)
    now, timezone = actor.clock.now(), actor.clock.timezone
    loaded = await load_facts(session, actor.tenant_id, timezone, account_ids, now)
    decided = [(state, evaluate(facts, policy.document, now)) for state, facts in loaded]
    since: dict[int, SinceComputed] | None = None
    if not after_write:
        today = local_date(now, timezone)
        since = {
            state.id: since_computed(
                state.evaluated_at,
                now,
                timezone,
                facts.due_date,
                (h.until for h in facts.holds),
                today,
            )
            for state, facts in loaded
        }
    effects = await apply_evaluations(session, actor, policy.version, decided, now, since=since)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Account) and obj.id in effects:
            await session.refresh(obj)
    return effects


# The schedule row says when; the account row is the lock every writer of the account takes.
_CLAIM_DUE = text(
    """
    SELECT a.id FROM evaluation_schedule AS s
    JOIN accounts AS a ON a.tenant_id = s.tenant_id AND a.id = s.account_id
    WHERE s.tenant_id = :t AND s.next_evaluation_at <= :now
    ORDER BY s.next_evaluation_at
    LIMIT :n
    FOR UPDATE OF a SKIP LOCKED
    """
)


@dataclass(frozen=True, slots=True)
class PassResult:
    evaluated: int
    changed: int


async def evaluate_due(session: AsyncSession, actor: Actor, batch_size: int = 1000) -> PassResult:
    """One batch of this tenant's accounts whose next evaluation time has come.

    Rows are claimed with FOR UPDATE SKIP LOCKED, so several processes share the work and
    each due account is evaluated once per due time (the decision moves its time forward).
    """
    now = actor.clock.now()
    params = {"t": actor.tenant_id, "now": now, "n": batch_size}
    ids = list((await session.scalars(_CLAIM_DUE, params)).all())
    # Every write keeps the summaries current (`reevaluate`), so a pass need not refresh them.
    effects = await _decide(session, actor, ids, after_write=False)
    return PassResult(len(ids), sum(1 for changed in effects.values() if changed))
