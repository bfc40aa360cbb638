"""Load the facts the policy decides from, for many accounts at once: one query per kind, in
plain SQL on the session's driver connection with rows read by position (no ORM or Core row
objects), so a batch of thousands loads in a few round trips and little Python.

Interactions are not read: each account's episode summary (kept on the account row, see
app/evaluation/summary.py) stands for them, unless the account has a fact dated after `now`
(a sandbox clock set back, a future-dated payment): only those accounts' rows are read.
Payments are read for the accounts with promises (their outcomes are recomputed from them)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.driver import driver_connection
from app.policy.facts import (
    AccountFacts,
    EpisodeSummary,
    HoldFact,
    InteractionFact,
    PaymentFact,
    PromiseFact,
)


@dataclass(frozen=True, slots=True)
class AccountState:
    """The stored escalation state the evaluator compares a decision against."""

    id: int
    ref: str
    episode: int
    tier: str | None
    stage: str | None
    partner: str | None
    promise_status: dict[str, tuple[str, int]]  # promise id → (status, paid)
    evaluated_at: datetime | None  # the previous evaluation's instant; None: never evaluated
    tier_score: int | None
    tier_reasons_json: str  # the stored rule list as jsonb prints it


# Plain SQL on the driver connection, rows read by position. Every related table is probed
# per account (LATERAL ... OFFSET 0 cannot be flattened into a join), so the plan is index
# probes for the batch's accounts whatever the planner thinks of the tables' sizes: a set join
# had been planned as hash joins over whole-table scans of the tenant's rows.
_ACCOUNTS_SQL = """
    SELECT a.id, a.ref, a.episode, a.tier, a.stage, a.partner, s.evaluated_at, a.tier_score,
           CAST(a.tier_reasons AS text), a.status, a.due_date, a.balance, a.stage_entered_at,
           a.episode_started_at, a.reason_code, a.reason_verification,
           d.cease_at, d.bankruptcy_at, d.deceased_at,
           a.episode_interactions, a.episode_call_attempts, a.episode_conversations,
           a.episode_first_reminder_at, a.episode_first_reminder_outcome,
           a.episode_last_self_call_at, a.episode_last_conversation_at,
           a.episode_last_payment_at, a.episode_latest_fact_at
    FROM accounts AS a
    CROSS JOIN LATERAL (
        SELECT d.cease_at, d.bankruptcy_at, d.deceased_at FROM debtors AS d
        WHERE d.tenant_id = a.tenant_id AND d.id = a.debtor_id OFFSET 0
    ) AS d
    LEFT JOIN LATERAL (
        SELECT s.evaluated_at FROM evaluation_schedule AS s
        WHERE s.tenant_id = a.tenant_id AND s.account_id = a.id OFFSET 0
    ) AS s ON true
    WHERE a.tenant_id = $1 AND a.id = ANY($2::bigint[])
    ORDER BY a.id
"""
_HOLDS_SQL = """
    SELECT k.id, h.kind, h.until
    FROM unnest($2::bigint[]) AS k(id)
    CROSS JOIN LATERAL (
        SELECT h.kind, h.until FROM holds AS h
        WHERE h.tenant_id = $1 AND h.account_id = k.id AND h.lifted_at IS NULL OFFSET 0
    ) AS h
"""
# The promises of each account's current episode ($3: the accounts' episodes, in $2's order).
_PROMISES_SQL = """
    SELECT k.id, p.id, p.amount, p.due_date, p.created_at, p.status, p.paid
    FROM unnest($2::bigint[], $3::int[]) AS k(id, episode)
    CROSS JOIN LATERAL (
        SELECT p.id, p.amount, p.due_date, p.created_at, p.status, p.paid FROM promises AS p
        WHERE p.tenant_id = $1 AND p.account_id = k.id AND p.episode = k.episode OFFSET 0
    ) AS p
"""
# Non-reversed payments since each account's episode began ($3, in $2's order).
_PAYMENTS_SQL = """
    SELECT k.id, p.occurred_at, p.amount
    FROM unnest($2::bigint[], $3::timestamptz[]) AS k(id, since)
    CROSS JOIN LATERAL (
        SELECT p.occurred_at, p.amount FROM payments AS p
        WHERE p.tenant_id = $1 AND p.account_id = k.id AND p.occurred_at >= k.since
          AND p.reversed_at IS NULL OFFSET 0
    ) AS p
"""
_STOPS = ("cease", "bankruptcy", "deceased")
_NO_STOPS: frozenset[str] = frozenset()


# This episode's interactions of the accounts that have a fact dated after `now`, with their
# contact's relationship ($3: each account's episode start, in $2's order).
_INTERACTIONS_SQL = """
    SELECT k.id, i.occurred_at, i.outcome, i.channel, i.direction, c.relationship, i.reason_code
    FROM unnest($2::bigint[], $3::timestamptz[]) AS k(id, since)
    CROSS JOIN LATERAL (
        SELECT i.occurred_at, i.outcome, i.channel, i.direction, i.reason_code, i.contact_id
        FROM interactions AS i
        WHERE i.tenant_id = $1 AND i.account_id = k.id AND i.occurred_at >= k.since OFFSET 0
    ) AS i
    CROSS JOIN LATERAL (
        SELECT c.relationship FROM contacts AS c
        WHERE c.tenant_id = $1 AND c.id = i.contact_id OFFSET 0
    ) AS c
"""


async def load_facts(
    session: AsyncSession, tenant_id: int, timezone: str, account_ids: list[int], now: datetime
) -> list[tuple[AccountState, AccountFacts]]:
    if not account_ids:
        return []
    driver = await driver_connection(session)
    accounts = await driver.fetch(_ACCOUNTS_SQL, tenant_id, account_ids)
    if not accounts:
        return []
    ids = [row[0] for row in accounts]
    holds: dict[int, list[HoldFact]] = defaultdict(list)
    for account_id, kind, until in await driver.fetch(_HOLDS_SQL, tenant_id, ids):
        holds[account_id].append(HoldFact(kind, until))
    promises: dict[int, list[Any]] = defaultdict(list)
    episodes = [row[2] for row in accounts]
    for row in await driver.fetch(_PROMISES_SQL, tenant_id, ids, episodes):
        promises[row[0]].append(row)

    with_rows = {row[0] for row in accounts if row[27] is not None and row[27] > now}
    interactions: dict[int, list[InteractionFact]] = defaultdict(list)
    payments: dict[int, list[PaymentFact]] = defaultdict(list)
    if needing := set(promises) | with_rows:
        found = await driver.fetch(_PAYMENTS_SQL, *_since(tenant_id, accounts, needing))
        for account_id, paid_at, amount in found:
            payments[account_id].append(PaymentFact(paid_at, amount))
    if with_rows:
        found = await driver.fetch(_INTERACTIONS_SQL, *_since(tenant_id, accounts, with_rows))
        for account_id, *fields in found:
            interactions[account_id].append(InteractionFact(*fields))
    return [
        _loaded(row, timezone, holds, promises, payments, interactions, with_rows)
        for row in accounts
    ]


def _since(tenant_id: int, accounts: list[Any], wanted: set[int]) -> tuple[Any, ...]:
    """The parameters of a query for the `wanted` accounts' rows since their episode began."""
    chosen = [row for row in accounts if row[0] in wanted]
    return tenant_id, [row[0] for row in chosen], [row[13] for row in chosen]


def _loaded(
    row: Any,
    timezone: str,
    holds: dict[int, list[HoldFact]],
    promises: dict[int, list[Any]],
    payments: dict[int, list[PaymentFact]],
    interactions: dict[int, list[InteractionFact]],
    with_rows: set[int],
) -> tuple[AccountState, AccountFacts]:
    account_id = row[0]
    account_promises = promises.get(account_id, ())
    state = AccountState(
        id=account_id,
        ref=row[1],
        episode=row[2],
        tier=row[3],
        stage=row[4],
        partner=row[5],
        promise_status={str(p[1]): (p[5], p[6]) for p in account_promises},
        evaluated_at=row[6],
        tier_score=row[7],
        tier_reasons_json=row[8],
    )
    stops = _NO_STOPS
    if row[16] is not None or row[17] is not None or row[18] is not None:
        stops = frozenset(name for name, at in zip(_STOPS, row[16:19], strict=True) if at)
    facts = AccountFacts(
        status=row[9],
        due_date=row[10],
        balance=row[11],
        stage=row[4],
        stage_entered_at=row[12],
        episode_started_at=row[13],
        timezone=timezone,
        stops=stops,
        holds=tuple(holds.get(account_id, ())),
        interactions=tuple(interactions.get(account_id, ())),
        summary=None if account_id in with_rows else EpisodeSummary(*row[19:28]),
        promises=tuple(PromiseFact(str(p[1]), p[2], p[3], p[4], p[5]) for p in account_promises),
        payments=tuple(payments.get(account_id, ())),
        reason_code=row[14],
        reason_verification=row[15],
    )
    return state, facts
