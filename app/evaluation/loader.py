"""Load the facts the policy decides from, for many accounts at once (a query per kind)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account, Contact, Debtor, Hold, Interaction, Payment, Promise
from app.policy.facts import (
    AccountFacts,
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
    tier_reasons: list[str]
    stage: str | None
    partner: str | None
    promise_status: dict[str, tuple[str, int]]  # promise id → (status, paid)


def _stops(debtor: Debtor) -> frozenset[str]:
    stops = set()
    if debtor.cease_at is not None:
        stops.add("cease")
    if debtor.bankruptcy_at is not None:
        stops.add("bankruptcy")
    if debtor.deceased_at is not None:
        stops.add("deceased")
    return frozenset(stops)


async def load_facts(
    session: AsyncSession, tenant_id: int, timezone: str, account_ids: list[int]
) -> list[tuple[AccountState, AccountFacts]]:
    if not account_ids:
        return []
    accounts = list(
        (
            await session.scalars(
                select(Account)
                .where(Account.tenant_id == tenant_id, Account.id.in_(account_ids))
                .order_by(Account.id)
            )
        ).all()
    )
    ids = [a.id for a in accounts]
    debtors = {
        d.id: d
        for d in await session.scalars(
            select(Debtor).where(
                Debtor.tenant_id == tenant_id, Debtor.id.in_({a.debtor_id for a in accounts})
            )
        )
    }
    holds: dict[int, list[HoldFact]] = defaultdict(list)
    for hold in await session.scalars(
        select(Hold).where(
            Hold.tenant_id == tenant_id, Hold.account_id.in_(ids), Hold.lifted_at.is_(None)
        )
    ):
        holds[hold.account_id].append(HoldFact(kind=hold.kind, until=hold.until))

    episode_join = and_(Account.tenant_id == tenant_id, Account.id == Interaction.account_id)
    interactions: dict[int, list[InteractionFact]] = defaultdict(list)
    rows = await session.execute(
        select(
            Interaction.account_id,
            Interaction.occurred_at,
            Interaction.outcome,
            Interaction.channel,
            Interaction.direction,
            Interaction.reason_code,
            Contact.relationship,
        )
        .join(Account, episode_join)
        .join(
            Contact,
            and_(Contact.tenant_id == tenant_id, Contact.id == Interaction.contact_id),
        )
        .where(
            Interaction.tenant_id == tenant_id,
            Interaction.account_id.in_(ids),
            Interaction.occurred_at >= Account.episode_started_at,
        )
    )
    for account_id, at, outcome, channel, direction, reason, relationship in rows:
        interactions[account_id].append(
            InteractionFact(at, outcome, channel, direction, relationship, reason)
        )

    promises: dict[int, list[Promise]] = defaultdict(list)
    for promise in await session.scalars(
        select(Promise)
        .join(Account, and_(Account.tenant_id == tenant_id, Account.id == Promise.account_id))
        .where(
            Promise.tenant_id == tenant_id,
            Promise.account_id.in_(ids),
            Promise.episode == Account.episode,
        )
    ):
        promises[promise.account_id].append(promise)

    payments: dict[int, list[PaymentFact]] = defaultdict(list)
    payment_rows = await session.execute(
        select(Payment.account_id, Payment.occurred_at, Payment.amount)
        .join(Account, and_(Account.tenant_id == tenant_id, Account.id == Payment.account_id))
        .where(
            Payment.tenant_id == tenant_id,
            Payment.account_id.in_(ids),
            Payment.reversed_at.is_(None),
            Payment.occurred_at >= Account.episode_started_at,
        )
    )
    for payment_account_id, paid_at, amount in payment_rows:
        payments[payment_account_id].append(PaymentFact(paid_at, amount))

    loaded = []
    for account in accounts:
        account_promises = promises[account.id]
        state = AccountState(
            id=account.id,
            ref=account.ref,
            episode=account.episode,
            tier=account.tier,
            tier_reasons=list(account.tier_reasons or []),
            stage=account.stage,
            partner=account.partner,
            promise_status={str(p.id): (p.status, p.paid) for p in account_promises},
        )
        facts = AccountFacts(
            status=account.status,
            due_date=account.due_date,
            balance=account.balance,
            stage=account.stage,
            stage_entered_at=account.stage_entered_at,
            episode_started_at=account.episode_started_at,
            timezone=timezone,
            stops=_stops(debtors[account.debtor_id]),
            holds=tuple(holds[account.id]),
            interactions=tuple(interactions[account.id]),
            promises=tuple(
                PromiseFact(str(p.id), p.amount, p.due_date, p.created_at, p.status)  # type: ignore[arg-type]
                for p in account_promises
            ),
            payments=tuple(payments[account.id]),
            reason_code=account.reason_code,
            reason_verification=account.reason_verification,
        )
        loaded.append((state, facts))
    return loaded


def is_due(next_evaluation_at: datetime | None, now: datetime) -> bool:
    return next_evaluation_at is not None and next_evaluation_at <= now
