"""Each account's bucket, tier, stage and partner as validity intervals (account_history).

Written in sets: after every evaluation for the evaluated accounts (`record_history`), and
by a daily sweep (`sweep_history`), because days past due grow without any event and an
account crosses a bucket boundary on a day nobody evaluates it. The daily sweep visits only
the accounts whose days past due crossed a bucket start since the last sweep; the whole
portfolio is reconciled on a tenant's first sweep, after a gap of over a month, and weekly.
Both are idempotent per day: a second change on the same day rewrites that day's interval.
"""

from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import TenantClock
from app.models import Tenant

# Days past due (policy.md): while delinquent, max(0, today − due_date); else 0.
BUCKET_SQL = """
    CASE
        WHEN a.status = 'delinquent' THEN
            CASE
                WHEN :today - a.due_date <= 0 THEN 'current'
                WHEN :today - a.due_date <= 30 THEN '1-30'
                WHEN :today - a.due_date <= 60 THEN '31-60'
                WHEN :today - a.due_date <= 90 THEN '61-90'
                WHEN :today - a.due_date <= 180 THEN '91-180'
                ELSE '181+'
            END
        WHEN a.status = 'cured' THEN 'current'
        ELSE a.status
    END
"""
BUCKETS = ("current", "1-30", "31-60", "61-90", "91-180", "181+", "closed", "charged_off")
# The days past due on which a delinquent account enters its next bucket.
BUCKET_STARTS = (1, 31, 61, 91, 181)
FULL_SWEEP_WEEKDAY = 6  # Sunday
FULL_SWEEP_AFTER_DAYS = 31
NEVER_SWEPT = date(1970, 1, 1)


# The accounts to bring up to date: those in :ids, or an id range of the tenant's.
_BY_IDS = "AND a.id = ANY(CAST(:ids AS bigint[]))"
_BY_RANGE = "AND a.id >= :low AND a.id < :high"
# The delinquent accounts due on each listed date, probed date by date (an index scan of
# (tenant, status, due_date) each): an OR of date ranges, or `= ANY` of the dates, was planned
# as a scan of every delinquent account with the dates as a filter.
_BY_CROSSING = """
    AND a.id IN (
        SELECT due.id FROM unnest(CAST(:due_dates AS date[])) AS crossing(day)
        CROSS JOIN LATERAL (
            SELECT d.id FROM accounts AS d
            WHERE d.tenant_id = :tenant_id AND d.status = 'delinquent' AND d.due_date = crossing.day
            OFFSET 0
        ) AS due
    )
"""
SWEEP_BATCH = 50_000


def _current(only: str) -> str:
    return f"""
    cur AS (
        SELECT a.id AS account_id, {BUCKET_SQL} AS bucket, a.tier,
               CASE WHEN a.status = 'delinquent' THEN a.stage END AS stage, a.partner
        FROM accounts AS a
        WHERE a.tenant_id = :tenant_id {only}
    )
    """  # noqa: S608 - no user input in the SQL text


# Each account's open interval, found by one probe of the open-interval index per account
# (LATERAL ... LIMIT 1 is always a parameterized probe): a join against the whole table is
# at the planner's mercy, and on a freshly filled table (statistics still saying empty) it
# became a nested loop over every open interval for every account: minutes per batch.
_FOUND = """
    found AS MATERIALIZED (
        SELECT cur.*, o.ctid AS row_id, o.valid_from,
               (o.bucket, o.tier, o.stage, o.partner) IS NOT DISTINCT FROM
               (cur.bucket, cur.tier, cur.stage, cur.partner) AS same
        FROM cur LEFT JOIN LATERAL (
            SELECT h.ctid, h.valid_from, h.bucket, h.tier, h.stage, h.partner
            FROM account_history AS h
            WHERE h.tenant_id = :tenant_id AND h.account_id = cur.account_id
              AND h.valid_to IS NULL
            LIMIT 1
        ) AS o ON true
    )
    """
# By row address: the rows were found just above, in this statement's snapshot.
_CLOSE = """
    WITH {current}, {found}
    UPDATE account_history SET valid_to = :today
    WHERE ctid = ANY(ARRAY(
        SELECT row_id FROM found
        WHERE row_id IS NOT NULL AND valid_from < :today AND NOT same
    ))
    """
_OPEN = """
    WITH {current}, {found}
    INSERT INTO account_history (tenant_id, account_id, valid_from, bucket, tier, stage, partner)
    SELECT :tenant_id, account_id, :today, bucket, tier, stage, partner
    FROM found
    WHERE row_id IS NULL OR NOT same
    ON CONFLICT (tenant_id, account_id, valid_from) DO UPDATE SET
        bucket = EXCLUDED.bucket, tier = EXCLUDED.tier, stage = EXCLUDED.stage,
        partner = EXCLUDED.partner, valid_to = NULL
    """
_STATEMENTS = {
    only: [text(sql.format(current=_current(only), found=_FOUND)) for sql in (_CLOSE, _OPEN)]
    for only in (_BY_IDS, _BY_RANGE, _BY_CROSSING)
}
_TODAY = text(
    "SELECT CAST((CAST(:now AS timestamptz) AT TIME ZONE timezone) AS date) "
    "FROM tenants WHERE id = :tenant_id"
)


async def _sync(session: AsyncSession, only: str, params: dict[str, object]) -> None:
    for statement in _STATEMENTS[only]:
        await session.execute(statement, params)


async def record_history(
    session: AsyncSession, tenant_id: int, account_ids: list[int], now: datetime
) -> None:
    """Bring the evaluated accounts' open intervals up to date, as of `now`'s local day."""
    if not account_ids:
        return
    today = (await session.execute(_TODAY, {"now": now, "tenant_id": tenant_id})).scalar_one()
    params = {"tenant_id": tenant_id, "today": today, "ids": sorted(set(account_ids))}
    await _sync(session, _BY_IDS, params)


_CLAIM_SWEEP = text(
    """
    SELECT day FROM history_sweeps WHERE tenant_id = :tenant_id FOR UPDATE SKIP LOCKED
    """
)


def crossing_due_dates(last: date, today: date) -> list[tuple[date, date]]:
    """For each bucket start, the due dates of the delinquent accounts that reached it on a day
    after `last`, up to and including `today`."""
    return [
        (last + timedelta(days=1 - start), today - timedelta(days=start)) for start in BUCKET_STARTS
    ]


def needs_full_sweep(last: date, today: date) -> bool:
    if last == NEVER_SWEPT or (today - last).days > FULL_SWEEP_AFTER_DAYS:
        return True
    return today.weekday() == FULL_SWEEP_WEEKDAY


async def sweep_history(session: AsyncSession, tenant_id: int, today: date) -> bool:
    """Bring the tenant's history up to `today` once per local day; True if this call did it.

    The tenant's history_sweeps row is the lock: another process sweeping skips it.
    """
    await session.execute(
        text(
            "INSERT INTO history_sweeps (tenant_id, day, swept_at) "
            "VALUES (:tenant_id, :never, now()) ON CONFLICT DO NOTHING"
        ),
        {"tenant_id": tenant_id, "never": NEVER_SWEPT},
    )
    last = (await session.execute(_CLAIM_SWEEP, {"tenant_id": tenant_id})).scalar_one_or_none()
    if last is None or last >= today:
        return False
    if needs_full_sweep(last, today):
        await _sweep_everything(session, tenant_id, today)
    else:
        due_dates = [
            low + timedelta(days=n)
            for low, high in crossing_due_dates(last, today)
            for n in range((high - low).days + 1)
        ]
        params = {"tenant_id": tenant_id, "today": today, "due_dates": due_dates}
        await _sync(session, _BY_CROSSING, params)
    await session.execute(
        text("UPDATE history_sweeps SET day = :today, swept_at = now() WHERE tenant_id = :t"),
        {"today": today, "t": tenant_id},
    )
    return True


async def _sweep_everything(session: AsyncSession, tenant_id: int, today: date) -> None:
    bounds = await session.execute(
        text("SELECT min(id), max(id) FROM accounts WHERE tenant_id = :t"), {"t": tenant_id}
    )
    low, high = bounds.one()
    # In id ranges, so no single statement grows with the portfolio.
    for start in range(low or 0, (high or -1) + 1, SWEEP_BATCH):
        params = {"tenant_id": tenant_id, "today": today, "low": start, "high": start + SWEEP_BATCH}
        await _sync(session, _BY_RANGE, params)


async def sweep_tenant(sessionmaker: async_sessionmaker[AsyncSession], tenant: Tenant) -> bool:
    """The daily step of the periodic evaluation, in a transaction of its own."""
    async with sessionmaker() as session:
        swept = await sweep_history(session, tenant.id, TenantClock.of(tenant).today())
        await session.commit()
    return swept
