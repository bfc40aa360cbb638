"""Load the facts the policy decides from, for many accounts at once: one query per kind,
plain rows (no ORM objects), so a batch of thousands loads in a few round trips.

Interactions are not read: each account's episode summary (kept on the account row, see
app/evaluation/summary.py) stands for them, unless the account has a fact dated after `now`
(a sandbox clock set back, a future-dated payment): only those accounts' rows are read.
Payments are read for the accounts with promises (their outcomes are recomputed from them)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Text, and_, any_, bindparam, cast, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Account,
    Contact,
    Debtor,
    EvaluationSchedule,
    Hold,
    Interaction,
    Payment,
    Promise,
)
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


_ACCOUNT_COLUMNS = (
    Account.id,
    Account.ref,
    Account.episode,
    Account.tier,
    Account.stage,
    Account.partner,
    EvaluationSchedule.evaluated_at,
    Account.tier_score,
    cast(Account.tier_reasons, Text).label("tier_reasons_json"),
    Account.status,
    Account.due_date,
    Account.balance,
    Account.stage_entered_at,
    Account.episode_started_at,
    Account.reason_code,
    Account.reason_verification,
    Debtor.cease_at,
    Debtor.bankruptcy_at,
    Debtor.deceased_at,
    Account.episode_interactions,
    Account.episode_call_attempts,
    Account.episode_conversations,
    Account.episode_first_reminder_at,
    Account.episode_first_reminder_outcome,
    Account.episode_last_self_call_at,
    Account.episode_last_conversation_at,
    Account.episode_last_payment_at,
    Account.episode_latest_fact_at,
)


def _among(column: Any, ids: list[int]) -> ColumnElement[bool]:
    """`column = ANY($1)`: one array parameter, however many ids."""
    condition: ColumnElement[bool] = column == any_(bindparam(None, ids, type_=ARRAY(BigInteger)))
    return condition


def _summary(row: Any) -> EpisodeSummary:
    return EpisodeSummary(
        row.episode_interactions,
        row.episode_call_attempts,
        row.episode_conversations,
        row.episode_first_reminder_at,
        row.episode_first_reminder_outcome,
        row.episode_last_self_call_at,
        row.episode_last_conversation_at,
        row.episode_last_payment_at,
        row.episode_latest_fact_at,
    )


async def load_facts(
    session: AsyncSession, tenant_id: int, timezone: str, account_ids: list[int], now: datetime
) -> list[tuple[AccountState, AccountFacts]]:
    if not account_ids:
        return []
    of_account = and_(Account.tenant_id == tenant_id, _among(Account.id, account_ids))
    accounts = (
        await session.execute(
            select(*_ACCOUNT_COLUMNS)
            .join(Debtor, and_(Debtor.tenant_id == tenant_id, Debtor.id == Account.debtor_id))
            .outerjoin(
                EvaluationSchedule,
                and_(
                    EvaluationSchedule.tenant_id == tenant_id,
                    EvaluationSchedule.account_id == Account.id,
                ),
            )
            .where(of_account)
            .order_by(Account.id)
        )
    ).all()

    if not accounts:
        return []
    holds: dict[int, list[HoldFact]] = defaultdict(list)
    for account_id, kind, until in await session.execute(
        select(Hold.account_id, Hold.kind, Hold.until).where(
            Hold.tenant_id == tenant_id,
            _among(Hold.account_id, account_ids),
            Hold.lifted_at.is_(None),
        )
    ):
        holds[account_id].append(HoldFact(kind, until))

    unsummarized = [
        row.id
        for row in accounts
        if row.episode_latest_fact_at is not None and row.episode_latest_fact_at > now
    ]
    interactions = await _interactions(session, tenant_id, unsummarized, accounts)

    promises: dict[int, list[tuple[str, int, object, object, str, int]]] = defaultdict(list)
    for promise_id, account_id, amount, due, created, status, paid in await session.execute(
        select(
            Promise.id,
            Promise.account_id,
            Promise.amount,
            Promise.due_date,
            Promise.created_at,
            Promise.status,
            Promise.paid,
        )
        .join(Account, and_(Account.tenant_id == tenant_id, Account.id == Promise.account_id))
        .where(
            Promise.tenant_id == tenant_id,
            _among(Promise.account_id, account_ids),
            Promise.episode == Account.episode,
        )
    ):
        promises[account_id].append((str(promise_id), amount, due, created, status, paid))

    payments: dict[int, list[PaymentFact]] = defaultdict(list)
    needing_payments = sorted(set(promises) | set(unsummarized))
    for account_id, paid_at, amount in await session.execute(
        select(Payment.account_id, Payment.occurred_at, Payment.amount)
        .join(Account, and_(Account.tenant_id == tenant_id, Account.id == Payment.account_id))
        .where(
            Payment.tenant_id == tenant_id,
            _among(Payment.account_id, needing_payments),
            Payment.reversed_at.is_(None),
            Payment.occurred_at >= Account.episode_started_at,
        )
    ):
        payments[account_id].append(PaymentFact(paid_at, amount))

    loaded = []
    with_rows = set(unsummarized)
    for row in accounts:
        account_promises = promises.get(row.id, [])
        stops = frozenset(
            name
            for name, at in (
                ("cease", row.cease_at),
                ("bankruptcy", row.bankruptcy_at),
                ("deceased", row.deceased_at),
            )
            if at is not None
        )
        state = AccountState(
            id=row.id,
            ref=row.ref,
            episode=row.episode,
            tier=row.tier,
            stage=row.stage,
            partner=row.partner,
            promise_status={p[0]: (p[4], p[5]) for p in account_promises},
            evaluated_at=row.evaluated_at,
            tier_score=row.tier_score,
            tier_reasons_json=row.tier_reasons_json,
        )
        facts = AccountFacts(
            status=row.status,
            due_date=row.due_date,
            balance=row.balance,
            stage=row.stage,
            stage_entered_at=row.stage_entered_at,
            episode_started_at=row.episode_started_at,
            timezone=timezone,
            stops=stops,
            holds=tuple(holds.get(row.id, ())),
            interactions=_of_episode(interactions.get(row.id), row.episode_started_at),
            summary=None if row.id in with_rows else _summary(row),
            promises=tuple(
                PromiseFact(pid, amount, due, created, status)  # type: ignore[arg-type]
                for pid, amount, due, created, status, _ in account_promises
            ),
            payments=tuple(payments.get(row.id, ())),
            reason_code=row.reason_code,
            reason_verification=row.reason_verification,
        )
        loaded.append((state, facts))
    return loaded


def _of_episode(
    found: list[InteractionFact] | None, started: datetime
) -> tuple[InteractionFact, ...]:
    """Most accounts' interactions are not read at all (their summary stands for them)."""
    if not found:
        return ()
    return tuple(i for i in found if i.occurred_at >= started)


async def _interactions(
    session: AsyncSession, tenant_id: int, account_ids: list[int], accounts: Sequence[Any]
) -> dict[int, list[InteractionFact]]:
    """The interactions (with their contact's relationship) of these accounts' episodes."""
    found: dict[int, list[InteractionFact]] = defaultdict(list)
    if not account_ids:
        return found
    wanted = set(account_ids)
    earliest_episode = min(row.episode_started_at for row in accounts if row.id in wanted)
    for account_id, at, outcome, channel, direction, reason, relationship in await session.execute(
        select(
            Interaction.account_id,
            Interaction.occurred_at,
            Interaction.outcome,
            Interaction.channel,
            Interaction.direction,
            Interaction.reason_code,
            Contact.relationship,
        )
        .join(Contact, and_(Contact.tenant_id == tenant_id, Contact.id == Interaction.contact_id))
        .where(
            Interaction.tenant_id == tenant_id,
            _among(Interaction.account_id, account_ids),
            Interaction.occurred_at >= earliest_episode,
        )
    ):
        found[account_id].append(
            InteractionFact(at, outcome, channel, direction, relationship, reason)
        )
    return found
