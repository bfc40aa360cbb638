"""Load contact-rule facts for many accounts at once: three queries (accounts with their
debtor, active hold kinds and pending promise; contacts; calls) however many accounts, with
the ids bound as one array parameter; plain rows, no ORM objects.

The dialer calls `load_contact_facts` at claim time and to precompute `eligible_at` in bulk,
with its open leases (`open_leases`: they count as attempts until released).
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.policy.contact_facts import AccountContactFacts, CallRecord, ContactFacts

# Every rule looks back at most 30 local days; two more cover any zone's day boundary.
HISTORY_DAYS = 32

# Plain SQL, written once: these run for every claim, outcome and queue update, and building
# the equivalent SQLAlchemy constructs per call cost more CPU than the queries themselves.
_ACCOUNTS = text(
    """
    SELECT a.id, a.ref, a.jurisdiction, a.status, a.stage, a.tier, a.balance, a.episode,
           a.partner, a.assignee, d.timezone, d.locale, d.cease_at, d.bankruptcy_at,
           d.deceased_at,
           (SELECT array_agg(h.kind) FROM holds AS h
            WHERE h.tenant_id = :t AND h.account_id = a.id AND h.lifted_at IS NULL
              AND (h.until IS NULL OR h.until > :now)) AS holds,
           (SELECT min(p.due_date) FROM promises AS p
            WHERE p.tenant_id = :t AND p.account_id = a.id AND p.episode = a.episode
              AND p.status = 'pending') AS promise_due
    FROM accounts AS a
    JOIN debtors AS d ON d.tenant_id = :t AND d.id = a.debtor_id
    WHERE a.tenant_id = :t AND a.id = ANY(CAST(:ids AS bigint[]))
    ORDER BY a.id
    """
)
_CONTACTS = text(
    """
    SELECT id, account_id, kind, value, relationship, status, timezone FROM contacts
    WHERE tenant_id = :t AND account_id = ANY(CAST(:ids AS bigint[]))
    ORDER BY account_id, created_at, id
    """
)
_CALLS_SQL = """
    SELECT i.account_id, i.contact_id, c.relationship, i.occurred_at, i.outcome, i.direction
    FROM interactions AS i
    JOIN contacts AS c ON c.tenant_id = :t AND c.id = i.contact_id
    WHERE i.tenant_id = :t AND i.account_id = ANY(CAST(:ids AS bigint[]))
      AND i.channel = 'call' AND i.occurred_at < :now
      AND (i.occurred_at >= :since OR c.relationship <> 'self')
"""
_CALLS = text(_CALLS_SQL)
# Open leases count as attempts from their lease (`CallRecord.lease`).
_CALLS_AND_LEASES = text(
    _CALLS_SQL  # noqa: S608 - fixed SQL, no values
    + """
    UNION ALL
    SELECT l.account_id, l.contact_id, c.relationship, l.leased_at, NULL, 'outbound'
    FROM dialer_leases AS l
    JOIN contacts AS c ON c.tenant_id = :t AND c.id = l.contact_id
    WHERE l.tenant_id = :t AND l.account_id = ANY(CAST(:ids AS bigint[]))
      AND l.released_at IS NULL AND l.interaction_id IS NULL
    """
)


@dataclass(frozen=True, slots=True)
class Address:
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class LoadedAccount:
    """One account's contact-rule facts, plus what a caller shows or dials."""

    facts: AccountContactFacts
    history: tuple[CallRecord, ...]  # calls before `at`, oldest first
    addresses: dict[str, Address]  # contact id → its kind and value (in clear)
    partner: str | None
    assignee: str | None


def _stops(
    cease: datetime | None, bankruptcy: datetime | None, deceased: datetime | None
) -> frozenset[str]:
    named = (("cease", cease), ("bankruptcy", bankruptcy), ("deceased", deceased))
    return frozenset(name for name, at in named if at is not None)


async def load_contact_facts(
    session: AsyncSession,
    tenant_id: int,
    account_ids: Sequence[int],
    now: datetime,
    *,
    leases: Mapping[int, Sequence[CallRecord]] | None = None,
    open_leases: bool = False,
) -> dict[int, LoadedAccount]:
    """The facts `decide_contact` needs for each account, as they stand at `now`.

    Holds are those active at `now`; history is every call before `now` in the last
    `HISTORY_DAYS` days, plus every earlier call to a third party (once-per-person and
    refusal rules look back for ever). `leases` (account id → `CallRecord.lease(...)`) are
    added to the history; with `open_leases`, so are the dialer's leases neither released nor
    reported (read with the calls, in the same query). Unknown ids (or other tenants') are left
    out of the result.
    """
    if not account_ids:
        return {}
    params = {"t": tenant_id, "ids": list(account_ids), "now": now}
    rows = (await session.execute(_ACCOUNTS, params)).all()
    ids = [row.id for row in rows]
    if not ids:
        return {}

    contacts: dict[int, list[ContactFacts]] = defaultdict(list)
    addresses: dict[int, dict[str, Address]] = defaultdict(dict)
    found = await session.execute(_CONTACTS, {"t": tenant_id, "ids": ids})
    for contact_id, account_id, kind, value, relationship, status, zone in found:
        key = str(contact_id)
        contacts[account_id].append(ContactFacts(key, relationship, kind, status, zone))
        addresses[account_id][key] = Address(kind, value)

    history = await _call_history(session, tenant_id, ids, now, open_leases=open_leases)
    for account_id, leased in (leases or {}).items():
        history[account_id].extend(leased)

    loaded = {}
    for row in rows:
        facts = AccountContactFacts(
            account_id=row.id,
            jurisdiction=row.jurisdiction,
            status=row.status,
            stage=row.stage,
            tier=row.tier,
            debtor_timezone=row.timezone,
            stops=_stops(row.cease_at, row.bankruptcy_at, row.deceased_at),
            holds=frozenset(row.holds or ()),
            contacts=tuple(contacts.get(row.id, ())),
            locale=row.locale,
            account_ref=row.ref,
            balance=row.balance,
            pending_promise_due=row.promise_due,
        )
        calls = tuple(sorted(history.get(row.id, ()), key=lambda c: c.occurred_at))
        loaded[row.id] = LoadedAccount(
            facts, calls, addresses.get(row.id, {}), row.partner, row.assignee
        )
    return loaded


async def _call_history(
    session: AsyncSession, tenant_id: int, ids: list[int], now: datetime, *, open_leases: bool
) -> dict[int, list[CallRecord]]:
    params = {"t": tenant_id, "ids": ids, "now": now, "since": now - timedelta(days=HISTORY_DAYS)}
    history: dict[int, list[CallRecord]] = defaultdict(list)
    found = await session.execute(_CALLS_AND_LEASES if open_leases else _CALLS, params)
    for account_id, contact_id, relationship, at, outcome, direction in found:
        history[account_id].append(
            CallRecord(str(contact_id), relationship, at, outcome, direction)
        )
    return history
