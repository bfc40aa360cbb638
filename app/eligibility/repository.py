"""Load contact-rule facts for many accounts at once: three queries (accounts with their
debtor, active hold kinds and pending promise; contacts; calls) however many accounts, with
the ids bound as one array parameter; plain rows, no ORM objects.

The dialer calls `load_contact_facts` at claim time and to precompute `eligible_at` in bulk,
passing its live leases as `leases` (they count as attempts until released).
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    any_,
    bindparam,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account, Contact, Debtor, DialerLease, Hold, Interaction, Promise
from app.policy.contact_facts import AccountContactFacts, CallRecord, ContactFacts

# Every rule looks back at most 30 local days; two more cover any zone's day boundary.
HISTORY_DAYS = 32


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


def _among(column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """`column = ANY($1)`: one array parameter, however many ids."""
    condition: ColumnElement[bool] = column == any_(
        bindparam(None, list(ids), type_=ARRAY(BigInteger))
    )
    return condition


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
    active_holds = (
        select(func.array_agg(Hold.kind))
        .where(
            Hold.tenant_id == tenant_id,
            Hold.account_id == Account.id,
            Hold.lifted_at.is_(None),
            or_(Hold.until.is_(None), Hold.until > now),
        )
        .scalar_subquery()
    )
    pending_promise_due = (
        select(func.min(Promise.due_date))
        .where(
            Promise.tenant_id == tenant_id,
            Promise.account_id == Account.id,
            Promise.episode == Account.episode,
            Promise.status == "pending",
        )
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(
                Account.id,
                Account.ref,
                Account.jurisdiction,
                Account.status,
                Account.stage,
                Account.tier,
                Account.balance,
                Account.episode,
                Account.partner,
                Account.assignee,
                Debtor.timezone,
                Debtor.locale,
                Debtor.cease_at,
                Debtor.bankruptcy_at,
                Debtor.deceased_at,
                active_holds.label("holds"),
                pending_promise_due.label("promise_due"),
            )
            .join(Debtor, and_(Debtor.tenant_id == tenant_id, Debtor.id == Account.debtor_id))
            .where(Account.tenant_id == tenant_id, _among(Account.id, account_ids))
            .order_by(Account.id)
        )
    ).all()
    ids = [row.id for row in rows]
    if not ids:
        return {}

    contacts: dict[int, list[ContactFacts]] = defaultdict(list)
    addresses: dict[int, dict[str, Address]] = defaultdict(dict)
    for contact_id, account_id, kind, value, relationship, status, zone in await session.execute(
        select(
            Contact.id,
            Contact.account_id,
            Contact.kind,
            Contact.value,
            Contact.relationship,
            Contact.status,
            Contact.timezone,
        )
        .where(Contact.tenant_id == tenant_id, _among(Contact.account_id, ids))
        .order_by(Contact.account_id, Contact.created_at, Contact.id)
    ):
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
    since = now - timedelta(days=HISTORY_DAYS)
    history: dict[int, list[CallRecord]] = defaultdict(list)
    calls: Any = (
        select(
            Interaction.account_id,
            Interaction.contact_id,
            Contact.relationship,
            Interaction.occurred_at,
            Interaction.outcome,
            Interaction.direction,
        )
        .join(Contact, and_(Contact.tenant_id == tenant_id, Contact.id == Interaction.contact_id))
        .where(
            Interaction.tenant_id == tenant_id,
            _among(Interaction.account_id, ids),
            Interaction.channel == "call",
            Interaction.occurred_at < now,
            or_(Interaction.occurred_at >= since, Contact.relationship != "self"),
        )
    )
    if open_leases:  # each counts as an attempt from its lease (`CallRecord.lease`)
        calls = calls.union_all(
            select(
                DialerLease.account_id,
                DialerLease.contact_id,
                Contact.relationship,
                DialerLease.leased_at,
                null(),
                literal("outbound"),
            )
            .join(
                Contact, and_(Contact.tenant_id == tenant_id, Contact.id == DialerLease.contact_id)
            )
            .where(
                DialerLease.tenant_id == tenant_id,
                _among(DialerLease.account_id, ids),
                DialerLease.released_at.is_(None),
                DialerLease.interaction_id.is_(None),
            )
        )
    for account_id, contact_id, relationship, at, outcome, direction in await session.execute(
        calls
    ):
        history[account_id].append(
            CallRecord(str(contact_id), relationship, at, outcome, direction)
        )
    return history
