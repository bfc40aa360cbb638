"""Reports and webhooks: portfolio report latency, roll rates over a period, and webhook
delivery throughput to a local receiver.

    .venv/bin/python bench/reports.py [--accounts 1000000] [--days 90] [--deliveries 5000]

Loads N demo accounts (`tactful demo`'s generator) into a live tenant, writes `days` of
account history (one validity interval per bucket an account went through, as the evaluator
and its daily sweep keep it), then times GET /v1/reports/portfolio (in-process ASGI, the
whole HTTP stack), GET /v1/reports/roll-rates between the first and last day of the history,
and the delivery worker sending payment.received webhooks to a receiver in another process.
Uses DATABASE_URL when set, else an embedded PostgreSQL; creates and drops a scratch database.
"""

import argparse
import asyncio
import multiprocessing
import os
import platform
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.config import Settings, async_database_url
from app.db.embedded import EmbeddedPostgres
from app.db.migrations import upgrade
from app.db.resolve import with_database
from app.db.session import create_engine
from app.demo.loader import load_demo
from app.main import create_app
from app.reports.history import sweep_history
from app.reports.summary import refresh
from app.tenancy import service as tenancy
from app.webhooks import worker

HISTORY = text(
    """
    INSERT INTO account_history
        (tenant_id, account_id, valid_from, valid_to, bucket, tier, stage, partner)
    SELECT a.tenant_id, a.id, greatest(a.due_date + s.first_day, :start),
           CASE WHEN a.due_date + s.end_day <= :today THEN a.due_date + s.end_day END,
           s.bucket, a.tier, a.stage, a.partner
    FROM accounts AS a
    CROSS JOIN (VALUES (-100000, 1, 'current'), (1, 31, '1-30'), (31, 61, '31-60'),
                       (61, 91, '61-90'), (91, 181, '91-180'), (181, 100000, '181+'))
        AS s(first_day, end_day, bucket)
    WHERE a.tenant_id = :t AND a.status = 'delinquent'
      AND a.due_date + s.end_day > :start AND a.due_date + s.first_day <= :today
    UNION ALL
    SELECT a.tenant_id, a.id, :start, NULL,
           CASE WHEN a.status = 'cured' THEN 'current' ELSE a.status END, a.tier, NULL, a.partner
    FROM accounts AS a WHERE a.tenant_id = :t AND a.status <> 'delinquent'
    """
)
OUTBOX = text(
    """
    INSERT INTO outbox (tenant_id, type, account_id, payload, occurred_at)
    SELECT :t, 'payment.received', a.id,
           jsonb_build_object('account_ref', a.ref, 'amount', 100, 'currency', a.currency),
           now()
    FROM accounts AS a WHERE a.tenant_id = :t ORDER BY a.id LIMIT :n
    """
)


async def admin(dsn: str, sql: str) -> None:
    engine = create_async_engine(async_database_url(dsn), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


def receive(port: int) -> None:
    """A minimal HTTP/1.1 receiver answering 204 to everything (runs in its own process)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed_gets(
    http: httpx.AsyncClient, path: str, key: str, n: int, **params: str
) -> list[float]:
    headers = {"Authorization": f"Bearer {key}"}
    await http.get(path, params=params, headers=headers)  # warm-up
    took = []
    for _ in range(n):
        started = time.perf_counter()
        response = await http.get(path, params=params, headers=headers)
        took.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return took


async def bench(url: str, args: argparse.Namespace) -> None:
    settings = Settings(
        database_url=url,
        db_pool_size=8,
        webhook_allow_private=True,
        db_statement_timeout_ms=3_600_000,
    )
    engine = create_engine(url, settings)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    async with sessionmaker() as session:
        tenant = await tenancy.create_tenant(session, "bench")
        await session.commit()
        key = (await tenancy.create_key(session, "bench", tenancy.ALL_SCOPES)).key
        await session.commit()
    wall = datetime.now(UTC)
    today = wall.date()
    async with engine.connect() as conn:
        started = time.perf_counter()
        await load_demo(conn, tenant.id, args.accounts, today=today, now=wall, seed=7)
        print(f"loaded {args.accounts:,} demo accounts in {time.perf_counter() - started:.1f} s")
    async with engine.begin() as conn:
        start = today - timedelta(days=args.days)
        started = time.perf_counter()
        await conn.execute(HISTORY, {"t": tenant.id, "start": start, "today": today})
        rows = (await conn.execute(text("SELECT count(*) FROM account_history"))).scalar_one()
        partner = (
            await conn.execute(
                text(
                    "SELECT partner FROM accounts WHERE partner IS NOT NULL "
                    "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
                )
            )
        ).scalar_one_or_none()
        print(
            f"history: {rows:,} intervals over {args.days} days "
            f"({rows / args.accounts:.2f} per account) in {time.perf_counter() - started:.1f} s"
        )
    async with engine.connect() as conn:
        await conn.execute(text("COMMIT"))
        await conn.execute(text("VACUUM ANALYZE"))
    next_day = today + timedelta(days=2 if today.weekday() == 5 else 1)  # not a Sunday
    sweeps = [
        (
            today,
            f"whole-portfolio history sweep over {args.accounts:,} accounts (first, "
            "after a month, Sundays)",
        ),
        (next_day, "next day's history sweep (bucket crossings only)"),
    ]
    for day, what in sweeps:
        async with sessionmaker() as session:
            started = time.perf_counter()
            await sweep_history(session, tenant.id, day)
            await session.commit()
            print(f"{what}: {time.perf_counter() - started:.2f} s")
    if partner is not None:
        async with sessionmaker() as session:
            partner_key = (
                await tenancy.create_key(session, "bench", ["reports:read"], partner)
            ).key
            await session.commit()

    app = create_app(settings, sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        for source in ("counted live", "from the maintained summary"):
            if source != "counted live":
                async with sessionmaker() as session:
                    started = time.perf_counter()
                    await refresh(session, tenant.id, today, datetime.now(UTC))
                    await session.commit()
                print(f"summary rebuilt in {time.perf_counter() - started:.2f} s")
            took = await timed_gets(http, "/v1/reports/portfolio", key, args.requests)
            print(
                f"portfolio report {source}: {args.requests} requests, "
                f"p50 {pct(took, 0.5):.0f} ms, p95 {pct(took, 0.95):.0f} ms (whole tenant)"
            )
            if partner is not None:
                took = await timed_gets(http, "/v1/reports/portfolio", partner_key, args.requests)
                print(
                    f"portfolio report {source}: p50 {pct(took, 0.5):.0f} ms, "
                    f"p95 {pct(took, 0.95):.0f} ms (partner key, {partner})"
                )
        period = {"from": start.isoformat(), "to": today.isoformat()}
        took = await timed_gets(http, "/v1/reports/roll-rates", key, 5, **period)
        print(
            f"roll rates {start} → {today}: median {statistics.median(took):.0f} ms, "
            f"max {max(took):.0f} ms (5 runs)"
        )
        await webhooks(http, sessionmaker, settings, tenant.id, key, args.deliveries)
    await engine.dispose()


async def webhooks(
    http: httpx.AsyncClient,
    sessionmaker: async_sessionmaker,  # type: ignore[type-arg]
    settings: Settings,
    tenant_id: int,
    key: str,
    count: int,
) -> None:
    port = 18000 + os.getpid() % 1000
    receiver = multiprocessing.Process(target=receive, args=(port,), daemon=True)
    receiver.start()
    await asyncio.sleep(0.5)
    try:
        created = await http.post(
            "/v1/webhooks",
            json={"url": f"http://127.0.0.1:{port}/hooks", "events": ["payment.received"]},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert created.status_code == 201, created.text
        async with sessionmaker() as session:
            await session.execute(OUTBOX, {"t": tenant_id, "n": count})
            await session.commit()
        started = time.perf_counter()
        sent = 0
        async with worker.new_client(settings) as client:
            while attempted := await worker.deliver_once(sessionmaker, client, settings):
                sent += attempted
        took = time.perf_counter() - started
        async with sessionmaker() as session:
            delivered = (
                await session.execute(
                    text("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'")
                )
            ).scalar_one()
        print(
            f"webhooks: {delivered:,} of {count:,} delivered ({sent:,} attempts) in {took:.1f} s"
            f" = {delivered / took:,.0f} deliveries/s (one worker, concurrency "
            f"{settings.webhook_concurrency})"
        )
    finally:
        receiver.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--database", help="scratch database name (created, then dropped)")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load {os.getloadavg()}"
    )
    server = None
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        server = EmbeddedPostgres(Settings().data_dir.resolve() / "bench-pg")
        dsn = server.start()
    name = args.database or f"tactful_bench_{uuid.uuid4().hex[:6]}"
    asyncio.run(admin(dsn, f'CREATE DATABASE "{name}"'))
    url = with_database(dsn, name)
    try:
        upgrade(url)
        asyncio.run(bench(url, args))
    finally:
        asyncio.run(admin(dsn, f'DROP DATABASE "{name}" WITH (FORCE)'))
        if server is not None and server.started_here:
            server.stop()
        print(f"load at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
