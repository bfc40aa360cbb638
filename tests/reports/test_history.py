"""Roll rates come from account_history, kept by the evaluator and its daily sweep."""

import asyncio
from datetime import date, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from app.clock import system_now
from app.evaluation.runner import evaluate_all
from app.reports.history import (
    NEVER_SWEPT,
    crossing_due_dates,
    needs_full_sweep,
    record_history,
    sweep_history,
)
from tests.conftest import KeyMaker, bearer, committed_key
from tests.reports.seed import PORTFOLIO, TODAY, Portfolio, bucket

LATER = TODAY + timedelta(days=10)


async def _intervals(connection: AsyncConnection, ref: str) -> list[tuple[object, ...]]:
    rows = await connection.execute(
        text(
            "SELECT h.valid_from, h.valid_to, h.bucket FROM account_history h "
            "JOIN accounts a ON a.tenant_id = h.tenant_id AND a.id = h.account_id "
            "WHERE a.ref = :ref ORDER BY h.valid_from"
        ),
        {"ref": ref},
    )
    return [tuple(row) for row in rows]


async def test_roll_rates_follow_bucket_crossings_without_events(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    book = await Portfolio.seed(client, make_key)
    await book.evaluate()
    await book.at(f"{(TODAY + timedelta(days=5)).isoformat()}T12:00:00+00:00")
    await book.events(
        {
            "id": "close-7",
            "type": "account.closed",
            "occurred_at": f"{(TODAY + timedelta(days=5)).isoformat()}T12:00:00+00:00",
            "account_ref": "R-7",
            "data": {},
        }
    )
    await book.at(f"{LATER.isoformat()}T12:00:00+00:00")
    await book.evaluate()
    await book.evaluate()  # idempotent per day

    # R-2 crossed from 1-30 into 31-60 with no event and no evaluation of its own.
    assert await _intervals(connection, "R-2") == [
        (TODAY, LATER, "1-30"),
        (LATER, None, "31-60"),
    ]
    expected: dict[tuple[str, str], int] = {}
    for s in PORTFOLIO:
        end = "closed" if s.ref == "R-7" else bucket(s.due, LATER)
        key = (bucket(s.due, TODAY), end)
        expected[key] = expected.get(key, 0) + 1
    report = await book.get("/v1/reports/roll-rates", **{"from": TODAY, "to": LATER})
    got = {(r["from_bucket"], r["to_bucket"]): r["count"] for r in report["rows"]}
    assert got == expected
    assert report["accounts"] == len(PORTFOLIO)
    origin = {}
    for (start, _), count in expected.items():
        origin[start] = origin.get(start, 0) + count
    for row in report["rows"]:
        assert row["rate"] == round(row["count"] / origin[row["from_bucket"]], 4)

    partner = bearer(await make_key("sbx", scopes=["reports:read"], partner="agency-x"))
    scoped = await book.get(
        "/v1/reports/roll-rates", headers=partner, **{"from": TODAY, "to": LATER}
    )
    placed = [s for s in PORTFOLIO if s.partner == "agency-x"]
    assert scoped["accounts"] == len(placed)
    assert {(r["from_bucket"], r["to_bucket"]) for r in scoped["rows"]} == {
        (bucket(s.due, TODAY), bucket(s.due, LATER)) for s in placed
    }
    csv = await client.get(
        "/v1/reports/roll-rates",
        params={"from": TODAY.isoformat(), "to": LATER.isoformat()},
        headers={**book.auth, "Accept": "text/csv"},
    )
    assert csv.text.split("\r\n")[0] == "from_bucket,to_bucket,count,rate"


async def test_history_is_idempotent_per_day_and_safe_with_several_processes(
    committed_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await committed_key(committed_sessionmaker, "hist", timezone="UTC")
    async with committed_sessionmaker() as session:
        tenant_id = (await session.execute(text("SELECT id FROM tenants"))).scalar_one()
        await session.execute(
            text(
                "INSERT INTO debtors (tenant_id, customer_ref, name, locale) "
                "VALUES (:t, 'c', 'n', 'en')"
            ),
            {"t": tenant_id},
        )
        await session.execute(
            text(
                "INSERT INTO accounts (tenant_id, ref, debtor_id, status, currency, principal, "
                "balance, due_date, product, jurisdiction) SELECT :t, 'A-' || g, d.id, "
                "'delinquent', 'USD', 100, 100, DATE '2026-11-01', 'p', 'us_reg_f' "
                "FROM generate_series(1, 200) g, debtors d"
            ),
            {"t": tenant_id},
        )
        ids = list((await session.execute(text("SELECT id FROM accounts"))).scalars())
        await session.commit()

    now = system_now()

    async def record() -> None:
        async with committed_sessionmaker() as session:
            await record_history(session, tenant_id, ids, now)
            await session.commit()

    async def sweep(day: date) -> bool:
        async with committed_sessionmaker() as session:
            swept = await sweep_history(session, tenant_id, day)
            await session.commit()
            return swept

    await asyncio.gather(record(), record(), record())
    day = now.date()
    assert sorted(await asyncio.gather(sweep(day), sweep(day))) == [False, True]
    assert await sweep(day) is False
    async with committed_sessionmaker() as session:
        counts = (
            await session.execute(
                text(
                    "SELECT count(*), count(*) FILTER (WHERE valid_to IS NULL), "
                    "count(DISTINCT account_id) FROM account_history"
                )
            )
        ).one()
    assert tuple(counts) == (200, 200, 200)


async def test_the_periodic_evaluation_sweeps_once_a_day(
    committed_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await committed_key(committed_sessionmaker, "swept", timezone="UTC")
    await evaluate_all(committed_sessionmaker)
    async with committed_sessionmaker() as session:
        days = (await session.execute(text("SELECT day FROM history_sweeps"))).scalars().all()
    assert days == [system_now().date()]


def test_the_crossing_due_dates_are_those_whose_days_past_due_reached_a_bucket_start() -> None:
    last, today = date(2031, 12, 1), date(2031, 12, 3)
    ranges = crossing_due_dates(last, today)
    for due in (today - timedelta(days=n) for n in range(400)):
        crossed = bucket(due, last) != bucket(due, today)
        assert crossed == any(low <= due <= high for low, high in ranges), due


def test_the_whole_portfolio_is_swept_first_after_a_month_and_on_sundays() -> None:
    monday = date(2031, 12, 1)
    assert needs_full_sweep(NEVER_SWEPT, monday)
    assert not needs_full_sweep(monday, monday + timedelta(days=1))
    assert not needs_full_sweep(monday - timedelta(days=31), monday)
    assert needs_full_sweep(monday - timedelta(days=32), monday)
    assert needs_full_sweep(monday + timedelta(days=5), monday + timedelta(days=6))


async def test_a_daily_sweep_visits_the_bucket_crossings_and_a_sunday_one_everything(
    make_key: KeyMaker, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    monday = date(2031, 12, 1)
    await make_key("sweep", timezone="UTC")
    dues = {"crossing": monday - timedelta(days=30), "staying": monday - timedelta(days=10)}
    async with sessionmaker() as session:
        tenant_id = (
            await session.execute(text("SELECT id FROM tenants WHERE name = 'sweep'"))
        ).scalar_one()
        debtor = await session.execute(
            text(
                "INSERT INTO debtors (tenant_id, customer_ref, name, locale) "
                "VALUES (:t, 'c', 'n', 'en') RETURNING id"
            ),
            {"t": tenant_id},
        )
        debtor_id = debtor.scalar_one()
        for ref, due in dues.items():
            await session.execute(
                text(
                    "INSERT INTO accounts (tenant_id, ref, debtor_id, status, currency, "
                    "principal, balance, due_date, product, jurisdiction, tier) VALUES "
                    "(:t, :ref, :d, 'delinquent', 'USD', 100, 100, :due, 'p', 'us_reg_f', 'B')"
                ),
                {"t": tenant_id, "ref": ref, "d": debtor_id, "due": due},
            )

        async def tiers_and_buckets() -> dict[str, list[tuple[object, ...]]]:
            rows = await session.execute(
                text(
                    "SELECT a.ref, h.valid_from, h.tier, h.bucket FROM account_history h "
                    "JOIN accounts a ON a.id = h.account_id WHERE a.tenant_id = :t "
                    "ORDER BY a.ref, h.valid_from"
                ),
                {"t": tenant_id},
            )
            found: dict[str, list[tuple[object, ...]]] = {}
            for ref, *interval in rows:
                found.setdefault(ref, []).append(tuple(interval))
            return found

        assert await sweep_history(session, tenant_id, monday)  # the first sweep: everything
        # A change that bypassed the evaluator's own history writes:
        await session.execute(
            text("UPDATE accounts SET tier = 'A' WHERE tenant_id = :t"), {"t": tenant_id}
        )
        tuesday = monday + timedelta(days=1)
        assert await sweep_history(session, tenant_id, tuesday)
        assert await tiers_and_buckets() == {
            "crossing": [(monday, "B", "1-30"), (tuesday, "A", "31-60")],
            "staying": [(monday, "B", "1-30")],
        }
        sunday = monday + timedelta(days=6)
        assert await sweep_history(session, tenant_id, sunday)
        assert (await tiers_and_buckets())["staying"] == [
            (monday, "B", "1-30"),
            (sunday, "A", "1-30"),
        ]


async def test_a_partner_moved_by_hand_is_in_the_history_from_that_day(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    book = await Portfolio.seed(client, make_key)
    moved = TODAY + timedelta(days=2)
    await book.at(f"{moved}T12:00:00+00:00")
    response = await client.patch(
        "/v1/accounts/R-1", json={"partner": "agency-y"}, headers=book.auth
    )
    assert response.status_code == 200, response.text
    await book.at(f"{moved + timedelta(days=1)}T12:00:00+00:00")
    await book.evaluate()  # and its daily sweep
    rows = await connection.execute(
        text(
            "SELECT h.valid_from, h.valid_to, h.partner FROM account_history h "
            "JOIN accounts a ON a.tenant_id = h.tenant_id AND a.id = h.account_id "
            "WHERE a.ref = 'R-1' ORDER BY h.valid_from"
        )
    )
    assert [tuple(row) for row in rows] == [
        (TODAY, moved, "agency-x"),
        (moved, None, "agency-y"),
    ]
