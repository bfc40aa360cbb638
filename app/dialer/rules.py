"""The pure contact rules, fed from the database for the queue: a set-based load of the
accounts' facts and call history plus the queue's own open leases (attempts until released)."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.dialer.repository import Candidate
from app.eligibility.repository import load_contact_facts
from app.policy.contact_facts import AccountContactFacts, CallRecord, ContactDecision
from app.policy.contact_rules import decide_contact
from app.policy.document import PolicyDocument
from app.policy.localtime import local_date
from app.policy.scripts import talking_points
from app.policy_api.repository import PolicyRepository


@dataclass(frozen=True, slots=True)
class Allowed:
    talking_points: list[str]


@dataclass(frozen=True, slots=True)
class Refused:
    next_allowed_at: datetime | None  # None: no passing of time helps (a stop)
    rules: tuple[str, ...]


# Calls at the very instant asked about count as before it: a frozen sandbox clock records
# several calls at one instant, and the loader reads history strictly before its `now`.
SAME_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Loaded:
    policy: PolicyDocument
    facts: Mapping[int, tuple[AccountContactFacts, Sequence[CallRecord]]]

    def decide(
        self, account_id: int, contact_id: uuid.UUID, at: datetime, lease_seconds: int
    ) -> tuple[AccountContactFacts, ContactDecision] | None:
        found = self.facts.get(account_id)
        if found is None:
            return None
        account, history = found
        contact = next((c for c in account.contacts if c.id == str(contact_id)), None)
        if contact is None:
            return None
        past = [call for call in history if call.occurred_at <= at]
        decision = decide_contact(account, contact, past, self.policy, at, lease_seconds)
        return account, decision


async def load(
    session: AsyncSession, tenant_id: int, account_ids: list[int], now: datetime
) -> Loaded:
    """Facts and history for these accounts, the queue's open leases counted as attempts."""
    policy = await PolicyRepository(session).current(tenant_id)
    loaded = await load_contact_facts(
        session, tenant_id, account_ids, now + SAME_INSTANT, open_leases=True
    )
    facts = {account_id: (one.facts, one.history) for account_id, one in loaded.items()}
    return Loaded(policy.document, facts)


def _lapsed(account: AccountContactFacts, purpose: str, now: datetime, timezone: str) -> bool:
    """A promise reminder is for the day before the promise falls due, and no other."""
    if purpose != "promise_reminder":
        return False
    due = account.pending_promise_due
    today = local_date(now, account.debtor_timezone or timezone)
    return due is None or today != due - timedelta(days=1)


async def decide_many(
    session: AsyncSession,
    tenant_id: int,
    timezone: str,
    candidates: Sequence[Candidate],
    now: datetime,
    lease_seconds: int,
) -> dict[int, Allowed | Refused]:
    """Each candidate task's final verdict at claim time, over the whole lease."""
    if not candidates:
        return {}
    loaded = await load(session, tenant_id, sorted({c.account_id for c in candidates}), now)
    verdicts: dict[int, Allowed | Refused] = {}
    for candidate in candidates:
        decided = loaded.decide(candidate.account_id, candidate.contact_id, now, lease_seconds)
        if decided is None:
            verdicts[candidate.id] = Refused(None, ("contact_gone",))
            continue
        account, decision = decided
        if _lapsed(account, candidate.purpose, now, timezone):
            verdicts[candidate.id] = Refused(None, ("promise_reminder_lapsed",))
        elif decision.allowed:
            points = talking_points(
                candidate.purpose,
                candidate.stage,
                account.locale,
                loaded.policy,
                account.jurisdiction,
            )
            verdicts[candidate.id] = Allowed(list(points))
        else:
            verdicts[candidate.id] = Refused(decision.next_allowed_at, decision.rules)
    return verdicts


async def call_violations(
    session: AsyncSession, tenant_id: int, account_id: int, contact_id: uuid.UUID, at: datetime
) -> list[str]:
    """The contact rules an outbound call at `at` broke, judged on the history before it."""
    loaded = await load(session, tenant_id, [account_id], at)
    decided = loaded.decide(account_id, contact_id, at, 0)
    if decided is None:
        return []
    return list(decided[1].rules)
