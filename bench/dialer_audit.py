"""The dialer benchmark's audit: every lease of the run, checked after the fact.

Double leases: two leases of the same work, or of the same debtor, live at once. The tenant's
clock is frozen during the run, so leases are ordered by the database's wall clock
(`created_at`, `ended_at`): a lease taken after another one started and before it ended (and
before it expired on the tenant's clock) is a double lease.

Violations: each lease re-checked against the pure contact rules for its whole lease, on the
account's history before the run plus every earlier lease of the run on that account (a
reported one as its call, an unreported one as an attempt, a released one not at all).
"""

import time
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.config import async_database_url
from app.eligibility.repository import load_contact_facts
from app.policy.contact_facts import CallRecord
from app.policy.contact_rules import decide_contact
from app.policy_api.repository import PolicyRepository

CHUNK = 2_000

_DOUBLE_LEASES = text(
    """
    SELECT count(*) FROM dialer_leases AS a JOIN dialer_leases AS b
      ON b.tenant_id = a.tenant_id
     AND (b.task_row_id = a.task_row_id OR b.debtor_id = a.debtor_id)
     AND b.id <> a.id
     AND b.created_at >= a.created_at
     AND b.created_at < COALESCE(a.ended_at, 'infinity')
     AND b.leased_at < a.expires_at
    WHERE a.tenant_id = :t
    """
)
_LEASES = text(
    """
    SELECT l.account_id, l.contact_id, c.relationship, l.leased_at, l.expires_at,
           l.released_at, i.outcome
    FROM dialer_leases AS l
    JOIN contacts AS c ON c.tenant_id = l.tenant_id AND c.id = l.contact_id
    LEFT JOIN interactions AS i ON i.tenant_id = l.tenant_id AND i.id = l.interaction_id
    WHERE l.tenant_id = :t
    ORDER BY l.account_id, l.created_at
    """
)


async def audit(url: str, at: datetime) -> None:
    engine = create_async_engine(async_database_url(url))
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    started = time.perf_counter()
    async with sessionmaker() as session:
        tenant_id = (
            await session.execute(text("SELECT id FROM tenants WHERE name = 'bench'"))
        ).scalar_one()
        doubles = (await session.execute(_DOUBLE_LEASES, {"t": tenant_id})).scalar_one()
        policy = (await PolicyRepository(session).current(tenant_id)).document
        by_account: dict[int, list[Any]] = defaultdict(list)
        for row in await session.execute(_LEASES, {"t": tenant_id}):
            by_account[row.account_id].append(row)
        violations: Counter[str] = Counter()
        checked = 0
        ids = sorted(by_account)
        for first in range(0, len(ids), CHUNK):
            chunk = ids[first : first + CHUNK]
            facts = await load_contact_facts(session, tenant_id, chunk, at)
            for account_id in chunk:
                account = facts[account_id].facts
                contacts = {c.id: c for c in account.contacts}
                calls = list(facts[account_id].history)  # the calls before the run
                for lease in by_account[account_id]:
                    contact_id = str(lease.contact_id)
                    seconds = int((lease.expires_at - lease.leased_at).total_seconds())
                    decision = decide_contact(
                        account, contacts[contact_id], calls, policy, lease.leased_at, seconds
                    )
                    checked += 1
                    violations.update(decision.rules)
                    if lease.outcome is not None:
                        calls.append(CallRecord(contact_id, lease.relationship, at, lease.outcome))
                    elif lease.released_at is None:
                        calls.append(CallRecord.lease(contact_id, lease.relationship, at))
    await engine.dispose()
    print(
        f"audit ({time.perf_counter() - started:.1f} s): {checked:,} leases; double leases "
        f"found: {doubles}; leases the rules did not allow: {sum(violations.values())}"
        + (f" {dict(violations)}" if violations else "")
    )
