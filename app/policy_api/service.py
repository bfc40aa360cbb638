"""Read, version and dry-run a tenant's policy."""

from collections import Counter

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Principal
from app.errors import invalid
from app.evaluation.loader import load_facts
from app.http.pagination import Page, decode_cursor, encode_cursor
from app.models import Account, PolicyVersion
from app.policy.document import PolicyDocument
from app.policy.evaluation import evaluate
from app.policy_api.repository import ActivePolicy, PolicyRepository
from app.policy_api.schemas import Move, PolicyOut, SampleAccount, SimulationOut

SIMULATION_BATCH = 2000
SAMPLE_SIZE = 20


def policy_out(policy: ActivePolicy) -> PolicyOut:
    return PolicyOut(
        version=policy.version,
        created_at=policy.created_at,
        created_by=policy.created_by,
        document=policy.document.model_dump(mode="json"),
    )


async def current(session: AsyncSession, principal: Principal) -> PolicyOut:
    return policy_out(await PolicyRepository(session).current(principal.tenant_id))


async def replace(
    session: AsyncSession, principal: Principal, document: PolicyDocument
) -> PolicyOut:
    created = await PolicyRepository(session).add(
        principal.tenant_id, document.model_dump(mode="json"), principal.actor
    )
    return policy_out(created)


async def versions(
    session: AsyncSession, principal: Principal, cursor: str | None, limit: int
) -> Page[PolicyOut]:
    position = decode_cursor(cursor, 1)
    before = position[0] if position else None
    if before is not None and (not isinstance(before, int) or before >= 2**31):
        raise invalid(("query", "cursor"), "not a cursor this endpoint issued")
    rows = await PolicyRepository(session).page(principal.tenant_id, before, limit + 1)
    items = [_row_out(row) for row in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1].version) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


def _row_out(row: PolicyVersion) -> PolicyOut:
    return PolicyOut(
        version=row.version,
        created_at=row.created_at,
        created_by=row.created_by,
        document=row.document,
    )


def _moves(counter: Counter[tuple[str | None, str | None]]) -> list[Move]:
    return [
        Move.model_validate({"from": src, "to": dst, "count": n})
        for (src, dst), n in sorted(
            counter.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))
        )
    ]


async def simulate(
    session: AsyncSession, principal: Principal, candidate: PolicyDocument
) -> SimulationOut:
    """What the candidate would decide now over the current delinquent portfolio; writes nothing."""
    active = await PolicyRepository(session).current(principal.tenant_id)
    now = principal.clock.now()
    tier_moves: Counter[tuple[str | None, str | None]] = Counter()
    stage_moves: Counter[tuple[str | None, str | None]] = Counter()
    sample: list[SampleAccount] = []
    total = 0
    after_id = 0
    while True:
        query = (
            select(Account.id)
            .where(
                Account.tenant_id == principal.tenant_id,
                Account.status == "delinquent",
                Account.id > after_id,
            )
            .order_by(Account.id)
            .limit(SIMULATION_BATCH)
        )
        if principal.partner is not None:
            query = query.where(Account.partner == principal.partner)
        ids = list((await session.scalars(query)).all())
        if not ids:
            break
        after_id = ids[-1]
        for state, facts in await load_facts(
            session, principal.tenant_id, principal.clock.timezone, ids, now
        ):
            total += 1
            decision = evaluate(facts, candidate, now)
            tier_to = decision.tier.tier
            stage_to = (
                decision.stage.to_stage if decision.stage.action == "advance" else state.stage
            )
            if tier_to != state.tier:
                tier_moves[(state.tier, tier_to)] += 1
            if stage_to != state.stage:
                stage_moves[(state.stage, stage_to)] += 1
            if (tier_to != state.tier or stage_to != state.stage) and len(sample) < SAMPLE_SIZE:
                sample.append(
                    SampleAccount(
                        account_ref=state.ref,
                        tier_from=state.tier,
                        tier_to=tier_to,
                        tier_rules=list(decision.tier.rules),
                        stage_from=state.stage,
                        stage_to=stage_to,
                        stage_action=decision.stage.action,
                        trigger=decision.stage.trigger,
                        blockers=list(decision.stage.blockers),
                    )
                )
        session.expunge_all()
    return SimulationOut(
        as_of=now,
        current_version=active.version,
        accounts=total,
        tier_changes=sum(tier_moves.values()),
        stage_changes=sum(stage_moves.values()),
        tier_moves=_moves(tier_moves),
        stage_moves=_moves(stage_moves),
        sample=sample,
    )
