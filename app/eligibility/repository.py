"""Load contact-rule facts for many accounts at once: three queries (accounts with their
debtor, active hold kinds and pending promise; contacts; calls) however many accounts, with
the ids bound as one array parameter; plain records read by position, no ORM objects.

The dialer calls `load_contact_facts` at claim time and to precompute `eligible_at` in bulk,
with its open leases (`open_leases`: they count as attempts until released).
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.driver import driver_connection
from app.policy.contact_facts import AccountContactFacts, CallRecord, ContactFacts

# Every rule looks back at most 30 local days; two more cover any zone's day boundary.
HISTORY_DAYS = 32

# Plain SQL on the session's driver connection, rows read by position: these run for every
# claim, outcome and queue update. Related rows are probed per account or per call (LATERAL
# ... OFFSET 0 is never flattened into a join): a join had been planned as a hash of all of
# the tenant's contacts, millions of rows, for a handful of calls.
_ACCOUNTS_SQL = """
    SELECT a.id, a.ref, a.jurisdiction, a.status, a.stage, a.tier, a.balance, a.episode,
           a.partner, a.assignee, d.timezone, d.locale, d.cease_at, d.bankruptcy_at,
           d.deceased_at,
           (SELECT array_agg(h.kind) FROM holds AS h
            WHERE h.tenant_id = $1 AND h.account_id = a.id AND h.lifted_at IS NULL
              AND (h.until IS NULL OR h.until > $3)) AS holds,
           (SELECT min(p.due_date) FROM promises AS p
            WHERE p.tenant_id = $1 AND p.account_id = a.id AND p.episode = a.episode
              AND p.status = 'pending') AS promise_due
    FROM accounts AS a
    CROSS JOIN LATERAL (
        SELECT d.timezone, d.locale, d.cease_at, d.bankruptcy_at, d.deceased_at
        FROM debtors AS d WHERE d.tenant_id = $1 AND d.id = a.debtor_id OFFSET 0
    ) AS d
    WHERE a.tenant_id = $1 AND a.id = ANY($2::bigint[])
    ORDER BY a.id
"""
_CONTACTS_SQL = """
    SELECT k.id, c.id, c.kind, c.value, c.relationship, c.status, c.timezone
    FROM unnest($2::bigint[]) AS k(id)
    CROSS JOIN LATERAL (
        SELECT c.id, c.kind, c.value, c.relationship, c.status, c.timezone, c.created_at
        FROM contacts AS c WHERE c.tenant_id = $1 AND c.account_id = k.id OFFSET 0
    ) AS c
    ORDER BY k.id, c.created_at, c.id
"""
# Calls before `now` ($3): in the last HISTORY_DAYS ($4 on), or to a third party (ever).
_CALLS_SQL = """
    SELECT k.id, i.contact_id, c.relationship, i.occurred_at, i.outcome, i.direction
    FROM unnest($2::bigint[]) AS k(id)
    CROSS JOIN LATERAL (
        SELECT i.contact_id, i.occurred_at, i.outcome, i.direction FROM interactions AS i
        WHERE i.tenant_id = $1 AND i.account_id = k.id AND i.channel = 'call'
          AND i.occurred_at < $3 OFFSET 0
    ) AS i
    CROSS JOIN LATERAL (
        SELECT c.relationship FROM contacts AS c
        WHERE c.tenant_id = $1 AND c.id = i.contact_id OFFSET 0
    ) AS c
    WHERE i.occurred_at >= $4 OR c.relationship <> 'self'
"""
# Open leases count as attempts from their lease (`CallRecord.lease`).
_CALLS_AND_LEASES_SQL = (
    _CALLS_SQL  # noqa: S608 - fixed SQL, no values
    + """
    UNION ALL
    SELECT k.id, l.contact_id, c.relationship, l.leased_at, NULL, 'outbound'
    FROM unnest($2::bigint[]) AS k(id)
    CROSS JOIN LATERAL (
        SELECT l.contact_id, l.leased_at FROM dialer_leases AS l
        WHERE l.tenant_id = $1 AND l.account_id = k.id
          AND l.released_at IS NULL AND l.interaction_id IS NULL OFFSET 0
    ) AS l
    CROSS JOIN LATERAL (
        SELECT c.relationship FROM contacts AS c
        WHERE c.tenant_id = $1 AND c.id = l.contact_id OFFSET 0
    ) AS c
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
    driver = await driver_connection(session)
    rows = await driver.fetch(_ACCOUNTS_SQL, tenant_id, list(account_ids), now)
    ids = [row[0] for row in rows]
    if not ids:
        return {}

    contacts: dict[int, list[ContactFacts]] = defaultdict(list)
    addresses: dict[int, dict[str, Address]] = defaultdict(dict)
    for account_id, contact_id, kind, value, relationship, status, zone in await driver.fetch(
        _CONTACTS_SQL, tenant_id, ids
    ):
        key = str(contact_id)
        contacts[account_id].append(ContactFacts(key, relationship, kind, status, zone))
        addresses[account_id][key] = Address(kind, value)

    history: dict[int, list[CallRecord]] = defaultdict(list)
    calls_sql = _CALLS_AND_LEASES_SQL if open_leases else _CALLS_SQL
    since = now - timedelta(days=HISTORY_DAYS)
    for account_id, contact_id, relationship, at, outcome, direction in await driver.fetch(
        calls_sql, tenant_id, ids, now, since
    ):
        history[account_id].append(
            CallRecord(str(contact_id), relationship, at, outcome, direction)
        )
    for account_id, leased in (leases or {}).items():
        history[account_id].extend(leased)

    loaded = {}
    for row in rows:
        account_id = row[0]
        facts = AccountContactFacts(
            account_id=account_id,
            jurisdiction=row[2],
            status=row[3],
            stage=row[4],
            tier=row[5],
            debtor_timezone=row[10],
            stops=_stops(row[12], row[13], row[14]),
            holds=frozenset(row[15] or ()),
            contacts=tuple(contacts.get(account_id, ())),
            locale=row[11],
            account_ref=row[1],
            balance=row[6],
            pending_promise_due=row[16],
        )
        calls = tuple(sorted(history.get(account_id, ()), key=_occurred_at))
        loaded[account_id] = LoadedAccount(
            facts, calls, addresses.get(account_id, {}), row[8], row[9]
        )
    return loaded


def _occurred_at(call: CallRecord) -> datetime:
    return call.occurred_at
