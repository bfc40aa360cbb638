"""Dialer throughput: a demo portfolio's work queue served by 2 `tactful serve` processes to 16
concurrent dialers. Phase 1: each dialer loops claim(10) → one outcome per task. Phase 2:
claims alone (claim(10), then release each task). Prints claims/s, outcomes/s, claim p50/p99,
CPU and load; then audits every lease of the run (double leases, rule violations).

    .venv/bin/python bench/dialer.py [--accounts 100000] [--dialers 16] [--seconds 60]

The tenant is a sandbox whose clock is pinned to a Tuesday 10:30 in Shanghai (the demo's
largest zone; 20:30 in Chicago, 19:30 in Denver, 18:30 in Los Angeles the evening before).
Uses DATABASE_URL's server when set, else 127.0.0.1:5432, and a scratch database
`dialer_bench` (--database), dropped at the end (unless --keep).
"""

import argparse
import asyncio
import contextlib
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dialer_audit import audit
from ingest import cpu_seconds, start_server

from app.config import Settings, async_database_url
from app.db.migrations import upgrade
from app.db.resolve import with_database
from app.db.session import create_engine
from app.demo.loader import load_demo
from app.dialer.generation import sync_tasks
from app.tenancy import service as tenancy

OUTCOMES = ["no_answer"] * 6 + ["busy", "voicemail", "reached_debtor", "refused"]
BUILD_CHUNK = 2_000


async def admin(dsn: str, sql: str) -> None:
    engine = create_async_engine(async_database_url(dsn), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average (uptime): {one:.2f}, {five:.2f}, {fifteen:.2f}"


def pinned_instant(today: datetime) -> datetime:
    """The next Tuesday (at least two days on) at 02:30 UTC: 10:30 in Shanghai."""
    day = today.date() + timedelta(days=2)
    day += timedelta(days=(1 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 2, 30, tzinfo=UTC)


async def build_queue(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: int, at: datetime
) -> None:
    """The queue as the evaluator keeps it, for the whole portfolio: 2 workers, in chunks."""
    async with sessionmaker() as session:
        ids = list(
            (
                await session.scalars(
                    text("SELECT id FROM accounts WHERE tenant_id = :t ORDER BY id"),
                    {"t": tenant_id},
                )
            ).all()
        )
    chunks = [ids[i : i + BUILD_CHUNK] for i in range(0, len(ids), BUILD_CHUNK)]

    async def worker(mine: list[list[int]]) -> None:
        for chunk in mine:
            async with sessionmaker() as session:
                await sync_tasks(session, tenant_id, "Asia/Shanghai", chunk, at)
                await session.commit()

    await asyncio.gather(worker(chunks[0::2]), worker(chunks[1::2]))


async def prepare(url: str, accounts: int) -> tuple[str, datetime]:
    settings = Settings(database_url=url, db_pool_size=4)
    engine = create_engine(url, settings)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    async with sessionmaker() as session:
        tenant = await tenancy.create_tenant(
            session, "bench", sandbox=True, timezone="Asia/Shanghai"
        )
        key = await tenancy.create_key(session, "bench", ["dialer", "admin", "accounts:read"])
        await session.commit()
    wall = datetime.now(UTC)
    at = pinned_instant(wall)
    started = time.perf_counter()
    async with engine.connect() as conn:
        loaded = await load_demo(conn, tenant.id, accounts, today=wall.date(), now=wall, seed=7)
    print(f"loaded {loaded.accounts:,} demo accounts in {time.perf_counter() - started:.1f} s")
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE tenants SET clock_frozen_at = :at WHERE id = :t"),
            {"at": at, "t": tenant.id},
        )
    started = time.perf_counter()
    await build_queue(sessionmaker, tenant.id, at)
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE"))
        counts = (
            await conn.execute(
                text(
                    "SELECT count(*), count(*) FILTER (WHERE eligible_at <= :at), "
                    "count(DISTINCT debtor_id) FILTER (WHERE eligible_at <= :at) "
                    "FROM dialer_tasks WHERE state = 'ready'"
                ),
                {"at": at},
            )
        ).one()
    print(
        f"queue built in {time.perf_counter() - started:.1f} s: {counts[0]:,} ready tasks, "
        f"{counts[1]:,} eligible at {at.isoformat()} ({counts[2]:,} debtors)"
    )
    await engine.dispose()
    return key.key, at


async def reopen(url: str) -> tuple[str, datetime]:
    """A new key on a kept database's tenant, and its pinned instant."""
    engine = create_engine(url, Settings(database_url=url, db_pool_size=1))
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        at = await session.scalar(text("SELECT clock_frozen_at FROM tenants WHERE name = 'bench'"))
        key = await tenancy.create_key(session, "bench", ["dialer", "admin", "accounts:read"])
        await session.commit()
    await engine.dispose()
    return key.key, at


@dataclass
class Totals:
    claims: int = 0
    claimed: int = 0
    outcomes: int = 0
    releases: int = 0
    empty_claims: int = 0
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)


async def dialer(
    http: httpx.AsyncClient, at: datetime, deadline: float, totals: Totals, release: bool
) -> None:
    occurred = at.isoformat()
    while time.monotonic() < deadline:
        started = time.perf_counter()
        response = await http.post("/v1/dialer/claims", json={"limit": 10, "lease_seconds": 300})
        totals.latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            totals.failures[f"claim {response.status_code} {response.text[:120]}"] += 1
            continue
        tasks = response.json()["tasks"]
        totals.claims += 1
        totals.claimed += len(tasks)
        if not tasks:
            totals.empty_claims += 1
            await asyncio.sleep(0.05)
        for task in tasks:
            path = f"/v1/dialer/tasks/{task['task_id']}/"
            if release:
                done = await http.post(path + "release")
                ok, kind = done.status_code == 200, "release"
                totals.releases += ok
            else:
                body = {"occurred_at": occurred, "outcome": random.choice(OUTCOMES)}  # noqa: S311
                done = await http.post(path + "outcome", json=body)
                ok, kind = done.status_code == 201, "outcome"
                totals.outcomes += ok
            if not ok:
                totals.failures[f"{kind} {done.status_code} {done.text[:120]}"] += 1


async def backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving the scratch database (same machine)."""
    engine = create_async_engine(async_database_url(url))
    async with engine.connect() as conn:
        pids = (
            await conn.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        ).all()
    await engine.dispose()
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            found[pid] = cpu_seconds(pid)
    return found


async def phase(
    name: str,
    bases: list[str],
    key: str,
    at: datetime,
    args: argparse.Namespace,
    pids: list[int],
    url: str,
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    https = [
        httpx.AsyncClient(base_url=bases[n % len(bases)], headers=headers, timeout=60)
        for n in range(args.dialers)
    ]
    totals = Totals()
    release = name == "claim-only"
    seconds = args.seconds if not release else args.claim_seconds
    cpu0, busy0, db0 = [cpu_seconds(pid) for pid in pids], cpu_seconds(), await backend_cpu(url)
    own0, started = time.process_time(), time.monotonic()
    await asyncio.gather(*(dialer(http, at, started + seconds, totals, release) for http in https))
    took = time.monotonic() - started
    server_cpu = sum(cpu_seconds(pid) - c for pid, c in zip(pids, cpu0, strict=True))
    servers, machine = server_cpu / took, (cpu_seconds() - busy0) / took
    own = time.process_time() - own0
    db_cpu = sum(cpu - db0.get(pid, 0.0) for pid, cpu in (await backend_cpu(url)).items())
    await asyncio.gather(*(http.aclose() for http in https))
    q = statistics.quantiles(totals.latencies or [0.0, 0.0], n=100, method="inclusive")
    done = totals.releases if release else totals.outcomes
    print(
        f"[{name}] {took:.1f} s, {args.dialers} dialers, {len(bases)} servers: "
        f"{totals.claims:,} claims ({totals.empty_claims:,} empty) = {totals.claims / took:,.0f}"
        f" claims/s; {totals.claimed:,} tasks claimed = {totals.claimed / took:,.0f} tasks/s; "
        f"{done:,} {'releases' if release else 'outcomes'} = {done / took:,.0f}/s"
    )
    print(
        f"[{name}] claim latency p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms; "
        f"cores busy: servers {servers:.2f}, whole machine {machine:.2f} of {os.cpu_count()}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    per_task = 1000 / max(totals.claimed, 1)
    print(
        f"[{name}] CPU per claimed task: servers {server_cpu * per_task:.2f} ms, this database's "
        f"PostgreSQL backends {db_cpu * per_task:.2f} ms, bench clients {own * per_task:.2f} ms; "
        f"cores busy: PostgreSQL backends {db_cpu / took:.2f}, bench {own / took:.2f}, "
        f"everything else {machine - servers - db_cpu / took - own / took:.2f}"
    )
    for failure, count in totals.failures.most_common(5):
        print(f"[{name}]   failed {count}×: {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--dialers", type=int, default=16)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--claim-seconds", type=int, default=30)
    parser.add_argument("--database", default="dialer_bench", help="scratch database name")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="run on the database a --keep run left (its queue as that run left it); keep it",
    )
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(load())
    dsn = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    drop = f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'
    if not args.reuse:
        asyncio.run(admin(dsn, drop))
        asyncio.run(admin(dsn, f'CREATE DATABASE "{args.database}"'))
    url = with_database(dsn, args.database)
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Any] = []
    try:
        upgrade(url)
        key, at = asyncio.run(reopen(url) if args.reuse else prepare(url, args.accounts))
        # One key serves all the dialers here; its default budget (50 requests/s) would
        # refuse most of the run. Real dialers carry their own keys or a raised limit.
        os.environ["TACTFUL_RATE_LIMITS_ENABLED"] = "false"
        bases = []
        for _ in range(args.servers):
            logs.append(open(os.devnull, "wb"))  # noqa: SIM115
            proc, base = start_server(url, logs[-1])
            procs.append(proc)
            bases.append(base)
        pids = [p.pid for p in procs]
        asyncio.run(phase("claim+outcome", bases, key, at, args, pids, url))
        asyncio.run(phase("claim-only", bases, key, at, args, pids, url))
        print(load())
        asyncio.run(audit(url, at))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        for log in logs:
            log.close()
        if not (args.keep or args.reuse):
            asyncio.run(admin(dsn, drop))


if __name__ == "__main__":
    main()
