"""The batch's reads and writes, one statement per table and batch (arrays and unnest)."""

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.parse import Key
from app.events.projection import STATUS_OF, AccountRow
from app.models import Account, Contact, Debtor, Event
from app.models.events import STATUS_EVENTS, EventType

# Plain SQL on the hot path: an ORM select costs several times more per row than the query.
_LOCK_ACCOUNTS = text(
    """
    SELECT id, ref, currency, status, partner, jurisdiction, debtor_id, principal, product,
           stage, episode, balance, base_balance, balance_as_of_at, balance_as_of_event,
           status_as_of_at, status_as_of_event, due_date, updated_at
    FROM accounts WHERE tenant_id = :t AND ref = ANY(CAST(:refs AS text[]))
    ORDER BY id FOR UPDATE
    """
)
# Lookups in tables that grow fast (events, payments) join the wanted keys: an index probe per
# key whatever the statistics say. With `= ANY(:array)` a prepared statement's generic plan,
# made while the table looked small, filtered every row of the tenant against the whole array
# (29 ms of backend CPU per 500 ids at 3,600 events, growing with the table).
_STATUS_HISTORY = text(  # STATUS_EVENTS literal, so the partial index applies
    "SELECT e.account_ref, e.occurred_at, e.id, e.type "  # noqa: S608 - a constant
    "FROM unnest(CAST(:refs AS text[])) AS u(ref) "
    "JOIN events AS e ON e.tenant_id = :t AND e.account_ref = u.ref "
    f"WHERE e.{STATUS_EVENTS}"
)
_STORED_DIGESTS = text(
    "SELECT e.id, e.content_digest FROM unnest(CAST(:ids AS text[])) AS u(id) "
    "JOIN events AS e ON e.tenant_id = :t AND e.id = u.id"
)
_PAYMENT_SOURCES = text(
    "SELECT p.account_id, p.payment_ref, p.source_event_id "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:refs AS text[])) AS u(account_id, payment_ref) "
    "JOIN payments AS p ON p.tenant_id = :t AND p.account_id = u.account_id "
    "AND p.payment_ref = u.payment_ref"
)
_EVENT_DISPUTE_HOLDS = text(
    "SELECT account_id, id, source_event_id FROM holds "
    "WHERE tenant_id = :t AND account_id = ANY(CAST(:ids AS bigint[])) AND kind = 'dispute' "
    "AND lifted_at IS NULL AND source_event_id IS NOT NULL"
)


def unnest_rows(table: Table, rows: list[dict[str, Any]]) -> tuple[str, str, dict[str, Any]]:
    """(column list, SELECT ... FROM unnest(...), parameters) for rows with the same keys."""
    columns = list(rows[0])
    arrays, selected, params = [], [], {}
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    for index, column in enumerate(columns):
        sql_type = table.c[column].type
        is_json = isinstance(sql_type, postgresql.JSONB)
        element = "text" if is_json else sql_type.compile(dialect=dialect)
        values = [row[column] for row in rows]
        if is_json:
            values = [None if v is None else json.dumps(v) for v in values]
        params[f"u{index}"] = values
        arrays.append(f"CAST(:u{index} AS {element}[])")
        selected.append(f"CAST(u.c{index} AS jsonb)" if is_json else f"u.c{index}")
    aliases = ", ".join(f"c{index}" for index in range(len(columns)))
    query = f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS u({aliases})"  # noqa: S608
    return ", ".join(columns), query, params


class EventRepository:
    def __init__(self, session: AsyncSession, tenant_id: int) -> None:
        self.session, self.tenant_id = session, tenant_id

    async def lock_accounts(self, refs: list[str]) -> list[AccountRow]:
        """The accounts with these refs, locked in one stable order (no deadlocks)."""
        if not refs:
            return []
        rows = await self.session.execute(_LOCK_ACCOUNTS, {"t": self.tenant_id, "refs": refs})
        return [AccountRow.of(row) for row in rows]

    async def status_history(self, refs: list[str]) -> dict[str, list[tuple[Key, str]]]:
        """Every stored status event of these accounts: ((occurred_at, id), status)."""
        found: dict[str, list[tuple[Key, str]]] = {ref: [] for ref in refs}
        if not refs:
            return found
        rows = await self.session.execute(_STATUS_HISTORY, {"t": self.tenant_id, "refs": refs})
        for ref, occurred_at, event_id, kind in rows:
            found[ref].append(((occurred_at, event_id), STATUS_OF[EventType(kind)]))
        return found

    async def lock_new_refs(self, refs: list[str]) -> None:
        """Serialise batches creating the same account: a transaction lock per new ref."""
        names = sorted(f"events:account:{self.tenant_id}:{ref}" for ref in refs)
        await self.session.execute(
            text(
                "SELECT count(pg_advisory_xact_lock(hashtextextended(n, 0))) "
                "FROM unnest(CAST(:names AS text[])) AS n"
            ),
            {"names": names},
        )

    async def stored_digests(self, ids: list[str]) -> dict[str, bytes]:
        if not ids:
            return {}
        rows = await self.session.execute(_STORED_DIGESTS, {"t": self.tenant_id, "ids": ids})
        return {event_id: digest for event_id, digest in rows}

    async def payment_sources(
        self, keys: list[tuple[int, str]]
    ) -> dict[tuple[int, str], str | None]:
        """(account id, payment_ref) → the id of the event that recorded the payment."""
        if not keys:
            return {}
        params = {"t": self.tenant_id, "ids": [k[0] for k in keys], "refs": [k[1] for k in keys]}
        rows = await self.session.execute(_PAYMENT_SOURCES, params)
        return {(account_id, ref): source for account_id, ref, source in rows}

    async def insert(self, table: Table, rows: list[dict[str, Any]], tail: str = "") -> list[Any]:
        """INSERT ... SELECT FROM unnest(...) `tail` (ON CONFLICT / RETURNING)."""
        if not rows:
            return []
        columns, query, params = unnest_rows(table, rows)
        result = await self.session.execute(
            text(f"INSERT INTO {table.name} ({columns}) {query} {tail}"),
            params,
        )
        return list(result.all()) if "RETURNING" in tail else []

    async def insert_events(self, rows: list[dict[str, Any]]) -> set[str]:
        inserted = await self.insert(
            Event.__table__,  # type: ignore[arg-type]
            rows,
            "ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id",
        )
        return {row.id for row in inserted}

    async def upsert_debtors(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        """Insert or refresh by customer_ref (rows sorted by it); customer_ref → debtor id."""
        returned = await self.insert(
            Debtor.__table__,  # type: ignore[arg-type]
            rows,
            "ON CONFLICT (tenant_id, customer_ref) DO UPDATE SET name = excluded.name, "
            "locale = excluded.locale, "
            "timezone = COALESCE(excluded.timezone, debtors.timezone), "
            "updated_at = excluded.updated_at RETURNING id, customer_ref",
        )
        return {row.customer_ref: row.id for row in returned}

    async def insert_accounts(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        returned = await self.insert(
            Account.__table__,  # type: ignore[arg-type]
            rows,
            "ON CONFLICT (tenant_id, ref) DO NOTHING RETURNING id, ref",
        )
        return {row.ref: row.id for row in returned}

    async def upsert_contacts(self, rows: list[dict[str, Any]]) -> None:
        """By (account, kind, value); never changes a status here (see set_contact_status)."""
        await self.insert(
            Contact.__table__,  # type: ignore[arg-type]
            rows,
            "ON CONFLICT (tenant_id, account_id, kind, value) DO UPDATE SET "
            "relationship = excluded.relationship, "
            "label = COALESCE(excluded.label, contacts.label), "
            "timezone = COALESCE(excluded.timezone, contacts.timezone), "
            "updated_at = excluded.updated_at",
        )

    async def set_contact_status(self, rows: list[tuple[int, str, str, str]]) -> None:
        """(account id, kind, value, status): `do_not_contact` is final, and `wrong_number`
        only ever moves to `do_not_contact` (a refresh never reactivates a contact)."""
        if not rows:
            return
        await self.session.execute(
            text(
                """
                UPDATE contacts AS c SET status = u.status
                FROM unnest(CAST(:ids AS bigint[]), CAST(:kinds AS text[]),
                            CAST(:vals AS text[]), CAST(:statuses AS text[]))
                    AS u(account_id, kind, value, status)
                WHERE c.tenant_id = :t AND c.account_id = u.account_id AND c.kind = u.kind
                  AND c.value = u.value AND c.status <> 'do_not_contact'
                  AND (c.status <> 'wrong_number' OR u.status = 'do_not_contact')
                """
            ),
            {
                "t": self.tenant_id,
                "ids": [r[0] for r in rows],
                "kinds": [r[1] for r in rows],
                "vals": [r[2] for r in rows],
                "statuses": [r[3] for r in rows],
            },
        )

    async def reverse_payments(self, rows: list[tuple[int, str, datetime]]) -> None:
        """(account id, payment_ref, reversed at); the earliest reversal counts."""
        if not rows:
            return
        await self.session.execute(
            text(
                """
                UPDATE payments AS p SET reversed_at = LEAST(p.reversed_at, u.at)
                FROM unnest(CAST(:ids AS bigint[]), CAST(:refs AS text[]),
                            CAST(:ats AS timestamptz[])) AS u(account_id, ref, at)
                WHERE p.tenant_id = :t AND p.account_id = u.account_id AND p.payment_ref = u.ref
                """
            ),
            {
                "t": self.tenant_id,
                "ids": [r[0] for r in rows],
                "refs": [r[1] for r in rows],
                "ats": [r[2] for r in rows],
            },
        )

    async def add_stops(self, rows: list[tuple[int, datetime | None, datetime | None]]) -> None:
        """(debtor id, bankruptcy at, deceased at): each stop keeps its earliest instant."""
        if not rows:
            return
        await self.session.execute(
            text(
                """
                UPDATE debtors AS d SET
                    bankruptcy_at = LEAST(d.bankruptcy_at, u.bankruptcy_at),
                    deceased_at = LEAST(d.deceased_at, u.deceased_at)
                FROM unnest(CAST(:ids AS bigint[]), CAST(:b AS timestamptz[]),
                            CAST(:d AS timestamptz[])) AS u(id, bankruptcy_at, deceased_at)
                WHERE d.tenant_id = :t AND d.id = u.id
                """
            ),
            {
                "t": self.tenant_id,
                "ids": [r[0] for r in sorted(rows)],
                "b": [r[1] for r in sorted(rows)],
                "d": [r[2] for r in sorted(rows)],
            },
        )

    async def latest_dispute_events(self, refs: list[str]) -> dict[str, tuple[str, str, str]]:
        """account ref → (type, event id, reason) of its latest dispute event."""
        if not refs:
            return {}
        rows = await self.session.execute(
            text(
                """
                SELECT DISTINCT ON (account_ref) account_ref, type, id, data->>'reason'
                FROM events
                WHERE tenant_id = :t AND account_ref = ANY(CAST(:refs AS text[]))
                  AND type IN ('dispute.opened', 'dispute.resolved')
                ORDER BY account_ref, occurred_at DESC, id COLLATE "C" DESC
                """
            ),
            {"t": self.tenant_id, "refs": refs},
        )
        return {ref: (kind, event_id, reason) for ref, kind, event_id, reason in rows}

    async def event_dispute_holds(self, account_ids: list[int]) -> dict[int, list[Any]]:
        """Active dispute holds that events set: account id → [(hold id, source event id)]."""
        held: dict[int, list[Any]] = {}
        if not account_ids:
            return held
        params = {"t": self.tenant_id, "ids": account_ids}
        rows = await self.session.execute(_EVENT_DISPUTE_HOLDS, params)
        for account_id, hold_id, source in rows:
            held.setdefault(account_id, []).append((hold_id, source))
        return held

    async def lift_holds(self, hold_ids: list[Any], now: datetime) -> None:
        if hold_ids:
            await self.session.execute(
                text(
                    "UPDATE holds SET lifted_at = :now "
                    "WHERE tenant_id = :t AND id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"t": self.tenant_id, "now": now, "ids": hold_ids},
            )

    async def write_accounts(
        self, accounts: list[AccountRow], now: datetime, episode: dict[str, Any]
    ) -> None:
        """The projection of every touched account in one statement; the balance is the base
        minus the non-reversed payments keyed after the base (ids compared bytewise)."""
        await self.session.execute(
            _WRITE_ACCOUNTS,
            {
                "t": self.tenant_id,
                "now": now,
                "stage": episode["stage"],
                "tier": episode["tier"],
                "reasons": json.dumps(episode["tier_reasons"]),
                "ids": [a.id for a in accounts],
                "debtors": [a.debtor_id for a in accounts],
                "principals": [a.principal for a in accounts],
                "products": [a.product for a in accounts],
                "jurisdictions": [a.jurisdiction for a in accounts],
                "partners": [a.partner for a in accounts],
                "bases": [a.base_balance for a in accounts],
                "b_ats": [a.balance_key[0] for a in accounts],
                "b_evs": [a.balance_key[1] for a in accounts],
                "dues": [a.due_date for a in accounts],
                "statuses": [a.status for a in accounts],
                "s_ats": [a.status_key[0] if a.status_key else None for a in accounts],
                "s_evs": [a.status_key[1] if a.status_key else None for a in accounts],
                "episodes": [a.episode for a in accounts],
                "new_episodes": [a.new_episode for a in accounts],
                "episode_ats": [a.episode_started_at for a in accounts],
            },
        )


_WRITE_ACCOUNTS = text(
    """
    UPDATE accounts AS a SET
        debtor_id = u.debtor_id, principal = u.principal, product = u.product,
        jurisdiction = u.jurisdiction, partner = u.partner,
        base_balance = u.base, balance_as_of_at = u.b_at, balance_as_of_event = u.b_ev,
        due_date = u.due, status = u.status,
        status_as_of_at = u.s_at, status_as_of_event = u.s_ev,
        episode = u.episode,
        episode_started_at = COALESCE(u.episode_at, a.episode_started_at),
        stage = CASE WHEN u.status <> 'delinquent' THEN NULL
                     WHEN u.new_episode THEN :stage ELSE a.stage END,
        stage_entered_at = CASE WHEN u.new_episode THEN :now ELSE a.stage_entered_at END,
        tier = CASE WHEN u.new_episode THEN :tier ELSE a.tier END,
        tier_reasons = CASE WHEN u.new_episode THEN CAST(:reasons AS jsonb)
                            ELSE a.tier_reasons END,
        reason_code = CASE WHEN u.new_episode THEN NULL ELSE a.reason_code END,
        reason_verification = CASE WHEN u.new_episode THEN NULL ELSE a.reason_verification END,
        updated_at = :now,
        balance = u.base - COALESCE((
            SELECT sum(p.amount) FROM payments AS p
            WHERE p.tenant_id = a.tenant_id AND p.account_id = a.id AND p.reversed_at IS NULL
              AND (p.occurred_at, COALESCE(p.source_event_id, '') COLLATE "C")
                  > (u.b_at, u.b_ev COLLATE "C")
        ), 0)
    FROM unnest(
        CAST(:ids AS bigint[]), CAST(:debtors AS bigint[]), CAST(:principals AS bigint[]),
        CAST(:products AS text[]), CAST(:jurisdictions AS text[]), CAST(:partners AS text[]),
        CAST(:bases AS bigint[]), CAST(:b_ats AS timestamptz[]), CAST(:b_evs AS text[]),
        CAST(:dues AS date[]), CAST(:statuses AS text[]), CAST(:s_ats AS timestamptz[]),
        CAST(:s_evs AS text[]), CAST(:episodes AS int[]), CAST(:new_episodes AS boolean[]),
        CAST(:episode_ats AS timestamptz[])
    ) AS u(id, debtor_id, principal, product, jurisdiction, partner, base, b_at, b_ev, due,
           status, s_at, s_ev, episode, new_episode, episode_at)
    WHERE a.tenant_id = :t AND a.id = u.id
    """
)
