"""Per-request cost of the guards every authenticated request passes: key lookup in a short
transaction, the PostgreSQL-backed rate limit (one INSERT .. ON CONFLICT), metrics and headers.

Drives GET /v1/accounts?limit=1 in-process (ASGI, real engine and pool) with concurrent
clients, first with rate limits off, then on (a budget no client exhausts), and prints
requests/s and p50/p99 latency of each, with the machine's load.

    .venv/bin/python bench/overhead.py [--clients 8] [--seconds 15]

DATABASE_URL when set, else an embedded PostgreSQL under .data/bench-pg; a scratch database.
"""

import argparse
import asyncio
import os
import statistics
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.config import RateLimit, Settings, async_database_url
from app.db.embedded import EmbeddedPostgres
from app.db.migrations import upgrade
from app.db.resolve import with_database
from app.db.session import create_engine
from app.main import create_app
from app.tenancy import service as tenancy

ROOT = Path(__file__).resolve().parent.parent


async def admin(dsn: str, sql: str) -> None:
    engine = create_async_engine(async_database_url(dsn), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


async def issue_key(url: str) -> str:
    engine = create_engine(url, Settings(database_url=url))
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        await tenancy.create_tenant(session, "bench")
        issued = await tenancy.create_key(session, "bench", ["accounts:read"])
        await session.commit()
    await engine.dispose()
    return issued.key


async def drive(settings: Settings, key: str, clients: int, seconds: float) -> list[float]:
    app = create_app(settings)
    latencies: list[float] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            deadline = time.monotonic() + seconds

            async def client() -> None:
                headers = {"Authorization": f"Bearer {key}"}
                while time.monotonic() < deadline:
                    started = time.perf_counter()
                    response = await http.get("/v1/accounts?limit=1", headers=headers)
                    latencies.append(time.perf_counter() - started)
                    assert response.status_code == 200, response.text

            await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


def report(name: str, latencies: list[float], seconds: float) -> None:
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"{name:<22} {len(latencies) / seconds:8.0f} req/s   "
        f"p50 {cuts[49] * 1000:6.2f} ms   p99 {cuts[98] * 1000:6.2f} ms"
    )


async def run(dsn: str, clients: int, seconds: float) -> None:
    name = f"bench_overhead_{uuid.uuid4().hex[:6]}"
    await admin(dsn, f'CREATE DATABASE "{name}"')
    url = with_database(dsn, name)
    try:
        await asyncio.to_thread(upgrade, url)
        key = await issue_key(url)
        base = Settings(database_url=url, evaluator_enabled=False, log_level="WARNING")
        generous = {"default": RateLimit(per_second=100_000, burst=100_000)}
        for label, settings in (
            ("rate limits off", base.model_copy(update={"rate_limits_enabled": False})),
            ("rate limits on", base.model_copy(update={"rate_limits": generous})),
        ):
            await drive(settings, key, clients, 2)  # warm-up: pool, caches
            report(label, await drive(settings, key, clients, seconds), seconds)
    finally:
        await admin(dsn, f'DROP DATABASE "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    configured = os.environ.get("DATABASE_URL")
    if configured:
        asyncio.run(run(configured, args.clients, args.seconds))
    else:
        server = EmbeddedPostgres(ROOT / ".data" / "bench-pg")
        try:
            asyncio.run(run(server.start(), args.clients, args.seconds))
        finally:
            server.stop()
    print(f"load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
