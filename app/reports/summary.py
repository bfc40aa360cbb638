"""Maintained portfolio summaries, so the portfolio report of a large tenant is a read of a
few thousand rows. Rebuilt in the background (`tactful serve`) at most every 30 s per tenant,
by one process at a time (a row lock taken with SKIP LOCKED); read only while under 60 s old
and of the tenant's current day, else the report counts the accounts live."""

import asyncio
import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import TenantClock, system_now
from app.models import Tenant
from app.reports.history import BUCKET_SQL

log = logging.getLogger("tactful.reports")
REFRESH_AFTER = timedelta(seconds=30)
MAX_LAG = timedelta(seconds=60)

_REBUILD = [
    text("DELETE FROM portfolio_summaries WHERE tenant_id = :tenant_id"),
    text(
        f"""
        INSERT INTO portfolio_summaries
            (tenant_id, partner, status, tier, stage, bucket, currency, count, balance)
        SELECT :tenant_id, a.partner, a.status, a.tier,
               CASE WHEN a.status = 'delinquent' THEN a.stage END, {BUCKET_SQL}, a.currency,
               count(*), sum(a.balance)
        FROM accounts AS a WHERE a.tenant_id = :tenant_id
        GROUP BY 2, 3, 4, 5, 6, 7
        """  # noqa: S608 - constant SQL
    ),
    text(
        "UPDATE portfolio_summary_state SET day = :today, refreshed_at = :now "
        "WHERE tenant_id = :tenant_id"
    ),
]


async def refresh(session: AsyncSession, tenant_id: int, today: date, now: datetime) -> bool:
    """Rebuild the tenant's summary unless fresh or being rebuilt elsewhere; True if done."""
    params = {"tenant_id": tenant_id, "today": today, "now": now}
    await session.execute(
        text(
            "INSERT INTO portfolio_summary_state (tenant_id, day, refreshed_at) "
            "VALUES (:tenant_id, DATE '1970-01-01', '-infinity') ON CONFLICT DO NOTHING"
        ),
        params,
    )
    state = (
        await session.execute(
            text(
                "SELECT day, refreshed_at FROM portfolio_summary_state "
                "WHERE tenant_id = :tenant_id FOR UPDATE SKIP LOCKED"
            ),
            params,
        )
    ).first()
    if state is None or (state.day == today and state.refreshed_at > now - REFRESH_AFTER):
        return False
    for statement in _REBUILD:
        await session.execute(statement, params)
    return True


async def fresh_rows(
    session: AsyncSession, tenant_id: int, partner: str | None, today: date
) -> tuple[datetime, list[dict[str, Any]]] | None:
    """The summary's rows and when they were counted, if fresh enough to serve."""
    state = (
        await session.execute(
            text("SELECT day, refreshed_at FROM portfolio_summary_state WHERE tenant_id = :t"),
            {"t": tenant_id},
        )
    ).first()
    if state is None or state.day != today or state.refreshed_at < system_now() - MAX_LAG:
        return None
    scope = "AND partner = :partner" if partner is not None else ""
    rows = await session.execute(
        text(
            f"""
            SELECT status, tier, stage, bucket, currency,
                   CAST(sum(count) AS bigint) AS count, CAST(sum(balance) AS bigint) AS balance
            FROM portfolio_summaries WHERE tenant_id = :t {scope}
            GROUP BY 1, 2, 3, 4, 5
            """  # noqa: S608 - constant SQL
        ),
        {"t": tenant_id, "partner": partner} if partner is not None else {"t": tenant_id},
    )
    return state.refreshed_at, [dict(row) for row in rows.mappings()]


async def refresh_all(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        tenants = list((await session.scalars(select(Tenant).order_by(Tenant.id))).all())
    done = 0
    for tenant in tenants:
        async with sessionmaker() as session:
            clock = TenantClock.of(tenant)
            done += await refresh(session, tenant.id, clock.today(), system_now())
            await session.commit()
    return done


async def run_forever(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    while True:
        try:
            await refresh_all(sessionmaker)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("summary refresh failed", extra={"error": type(exc).__name__})
        await asyncio.sleep(REFRESH_AFTER.total_seconds() / 3)
