"""Contact-rule costs: the pure decision per contact, and loading facts for claim batches.

    .venv/bin/python bench/contact_rules.py [--accounts 100000] [--decisions 20000]

Phase 1 (no database): `decide_contact` over generated histories at random instants; prints
decisions/s and p50/p99, for allowed and blocked contacts (a blocked one also searches for
`next_allowed_at`). Phase 2: loads N demo accounts, then times `load_contact_facts` plus a
decision for every contact, for batches of 10 and 100 accounts (claim time) and 2,000
(bulk `eligible_at` precompute). Uses DATABASE_URL when set, else an embedded PostgreSQL under
.data/bench-pg, in a scratch database it drops afterwards.
"""

import argparse
import asyncio
import os
import platform
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.config import Settings, async_database_url
from app.db.embedded import EmbeddedPostgres
from app.db.migrations import upgrade
from app.db.resolve import with_database
from app.db.session import create_engine
from app.demo.loader import load_demo
from app.eligibility.repository import load_contact_facts
from app.policy.contact_facts import AccountContactFacts, CallRecord, ContactFacts
from app.policy.contact_rules import decide_contact
from app.policy.document import DEFAULT_POLICY
from app.policy.names import OUTCOMES
from app.tenancy import service as tenancy

ZONES = ["America/New_York", "America/Chicago", "Asia/Shanghai", "Europe/London", None]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms"


def scenario(
    rng: random.Random, now: datetime
) -> tuple[AccountContactFacts, ContactFacts, list[CallRecord]]:
    contacts = (
        ContactFacts("self-1", "self", "phone", "active", rng.choice(ZONES)),
        ContactFacts("self-2", "self", "phone", "active"),
        ContactFacts("ref-1", rng.choice(["spouse", "parent", "friend"]), "phone", "active"),
    )
    account = AccountContactFacts(
        account_id=1,
        jurisdiction=rng.choice(["us_reg_f", "cn_nifa", "uk_fca"]),
        status="delinquent",
        stage=rng.choice(["reminder", "early", "early", "network", "reassigned"]),
        tier=rng.choice("ABC"),
        debtor_timezone=rng.choice(ZONES),
        contacts=contacts,
    )
    outcomes = ["no_answer"] * 8 + list(OUTCOMES)
    history = [
        CallRecord(
            c.id,
            c.relationship,
            now - timedelta(minutes=rng.randint(1, 30 * 1440)),
            rng.choice(outcomes),
        )
        for c in (rng.choice(contacts) for _ in range(rng.randint(0, 12)))
    ]
    return account, rng.choice(contacts), history


def pure_phase(decisions: int) -> None:
    rng = random.Random(7)  # noqa: S311 (reproducible test data)
    start = datetime(2026, 3, 2, tzinfo=UTC)
    cases = []
    for _ in range(decisions):
        now = start + timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        cases.append((*scenario(rng, now), now))
    for run in ("cold caches", "warm caches (same cases again)"):
        timings: dict[bool, list[float]] = {True: [], False: []}
        began = time.perf_counter()
        for account, contact, history, now in cases:
            t0 = time.perf_counter()
            decision = decide_contact(account, contact, history, DEFAULT_POLICY, now, 300)
            timings[decision.allowed].append(time.perf_counter() - t0)
        took = time.perf_counter() - began
        print(f"pure, {run}: {decisions:,} decisions in {took:.2f} s = {decisions / took:,.0f}/s")
        for allowed, samples in timings.items():
            label = "allowed" if allowed else "blocked (with next_allowed_at)"
            print(f"  {label}: {len(samples):,}, {percentiles(samples)}")


async def db_phase(url: str, accounts: int, rounds: int) -> None:
    engine = create_engine(url, Settings(database_url=url, db_pool_size=2))
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    async with sessionmaker() as session:
        tenant = await tenancy.create_tenant(session, "bench", sandbox=True)
        await session.commit()
    wall = datetime.now(UTC)
    async with engine.connect() as conn:
        began = time.perf_counter()
        await load_demo(conn, tenant.id, accounts, today=wall.date(), now=wall, seed=7)
        print(f"loaded {accounts:,} demo accounts in {time.perf_counter() - began:.1f} s")
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE"))
        ids = list(
            (
                await conn.execute(
                    text("SELECT id FROM accounts WHERE tenant_id = :t"), {"t": tenant.id}
                )
            ).scalars()
        )
    rng = random.Random(11)  # noqa: S311
    for size, count in ((10, rounds), (100, rounds), (2000, max(3, rounds // 20))):
        loads, totals, contacts = [], [], 0
        for _ in range(count):
            batch = rng.sample(ids, size)
            async with sessionmaker() as session:
                t0 = time.perf_counter()
                loaded = await load_contact_facts(session, tenant.id, batch, wall)
                t1 = time.perf_counter()
                for one in loaded.values():
                    for contact in one.facts.contacts:
                        decide_contact(one.facts, contact, one.history, DEFAULT_POLICY, wall, 300)
                        contacts += 1
                t2 = time.perf_counter()
            loads.append(t1 - t0)
            totals.append(t2 - t0)
        rate = size * count / sum(totals)
        print(
            f"batch of {size:,} accounts ({contacts / count:,.0f} contacts): "
            f"load {percentiles(loads)}; load + decide {percentiles(totals)}; "
            f"{rate:,.0f} accounts/s"
        )
    await engine.dispose()


async def admin_sql(dsn: str, sql: str) -> None:
    engine = create_async_engine(async_database_url(dsn), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    one, five, fifteen = os.getloadavg()
    print(f"load average: {one:.2f} {five:.2f} {fifteen:.2f} (shared machine)")
    pure_phase(args.decisions)
    if not args.accounts:
        return
    server, dsn = None, os.environ.get("DATABASE_URL")
    if not dsn:
        server = EmbeddedPostgres(Settings().data_dir.resolve() / "bench-pg")
        dsn = server.start()
    name = f"tactful_bench_rules_{uuid.uuid4().hex[:6]}"
    asyncio.run(admin_sql(dsn, f'CREATE DATABASE "{name}"'))
    url = with_database(dsn, name)
    try:
        upgrade(url)
        asyncio.run(db_phase(url, args.accounts, args.rounds))
    finally:
        asyncio.run(admin_sql(dsn, f'DROP DATABASE "{name}" WITH (FORCE)'))
        if server is not None and server.started_here:
            server.stop()


if __name__ == "__main__":
    main()
