"""Soak: ingestion, dialer claims with outcomes, and reports together against 2 `tactful serve`
processes for a configurable time; prints throughput, p99s, errors by status, the servers'
RSS growth, then audits the run: every event acknowledged as applied is stored (no lost
events), no double leases, no lease the contact rules did not allow.

    .venv/bin/python bench/soak.py [--minutes 10] [--accounts 20000] [--dialers 8]
                                   [--ingesters 2] [--batch 100] [--readers 1]

The portfolio and the dialer queue are built as in bench/dialer.py (a sandbox tenant whose
clock is pinned to a Tuesday morning in Shanghai); ingestion posts new delinquencies (each
a new account) plus 10 % resends; readers cycle through the five reports. Rate limits are
off (one key drives everything). DATABASE_URL's server when set, else 127.0.0.1:5432, on a
scratch database `soak_bench` (--database), dropped at the end (unless --keep).
"""

import argparse
import asyncio
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dialer import OUTCOMES, admin, load, prepare
from dialer_audit import audit
from ingest import Client, start_server, vm_kb

from app.config import async_database_url
from app.db.migrations import upgrade
from app.db.resolve import with_database
from app.tenancy import service as tenancy

REPORTS = ["portfolio", "promises", "roll-rates", "contacts", "compliance"]


@dataclass
class Run:
    deadline: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    acknowledged: set[str] = field(default_factory=set)  # event ids answered `applied`
    n: Counter[str] = field(default_factory=Counter)

    @property
    def running(self) -> bool:
        return time.monotonic() < self.deadline

    async def call(
        self, kind: str, http: httpx.AsyncClient, method: str, path: str, **kw: Any
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            self.transport_errors[f"{kind} {type(exc).__name__}"] += 1
            return None
        self.latencies[kind].append(time.perf_counter() - started)
        self.statuses[(kind, response.status_code)] += 1
        return response


async def ingester(run: Run, http: httpx.AsyncClient, n: int, size: int) -> None:
    client, sent = Client(1000 + n, [], size), list[dict[str, Any]]()
    while run.running:
        now = datetime.now(UTC)
        at = (now - timedelta(seconds=2)).isoformat(timespec="milliseconds")
        day = (now.date() - timedelta(days=client.rng.randint(1, 120))).isoformat()
        events = [{"id": uuid.uuid4().hex, **client.delinquent(at, day)} for _ in range(size)]
        events += [client.rng.choice(sent) for _ in range(size // 10)] if sent else []
        response = await run.call("events", http, "POST", "/v1/events", json={"events": events})
        if response is None or response.status_code != 200:
            await asyncio.sleep(0.1)
            continue
        for event, result in zip(events, response.json()["results"], strict=True):
            run.n[f"events {result['status']}"] += 1
            if result["status"] == "applied":
                run.acknowledged.add(event["id"])
                sent.append(event)
        del sent[:-2_000]


async def dialer(run: Run, http: httpx.AsyncClient, at: datetime, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - load generation
    occurred = at.isoformat()
    while run.running:
        body = {"limit": 10, "lease_seconds": 300}
        response = await run.call("claim", http, "POST", "/v1/dialer/claims", json=body)
        tasks = response.json()["tasks"] if response and response.status_code == 200 else []
        run.n["tasks claimed"] += len(tasks)
        if not tasks:
            await asyncio.sleep(0.1)
        for task in tasks:
            outcome = {"occurred_at": occurred, "outcome": rng.choice(OUTCOMES)}
            path = f"/v1/dialer/tasks/{task['task_id']}/outcome"
            await run.call("outcome", http, "POST", path, json=outcome)


async def reader(run: Run, http: httpx.AsyncClient) -> None:
    while run.running:
        for name in REPORTS:
            await run.call(f"report {name}", http, "GET", f"/v1/reports/{name}")


async def sample_rss(run: Run, pids: list[int]) -> tuple[list[int], list[int]]:
    await asyncio.sleep(min(30.0, (run.deadline - time.monotonic()) / 10))  # past warm-up
    first = [vm_kb(pid, "VmRSS") for pid in pids]
    peak = list(first)
    while run.running:
        await asyncio.sleep(1.0)
        peak = [max(p, vm_kb(pid, "VmRSS")) for p, pid in zip(peak, pids, strict=True)]
    return first, peak


def p99(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[98]


async def soak(
    bases: list[str], key: str, at: datetime, args: argparse.Namespace, pids: list[int]
) -> Run:
    headers = {"Authorization": f"Bearer {key}"}
    clients = [
        httpx.AsyncClient(base_url=bases[n % len(bases)], headers=headers, timeout=60)
        for n in range(args.ingesters + args.dialers + args.readers)
    ]
    run = Run(deadline=time.monotonic() + args.minutes * 60)
    ingesting = clients[: args.ingesters]
    dialing = clients[args.ingesters : args.ingesters + args.dialers]
    reading = clients[args.ingesters + args.dialers :]
    started = time.monotonic()
    rss = asyncio.create_task(sample_rss(run, pids))
    await asyncio.gather(
        *(ingester(run, h, n, args.batch) for n, h in enumerate(ingesting)),
        *(dialer(run, h, at, n) for n, h in enumerate(dialing)),
        *(reader(run, h) for h in reading),
    )
    took = time.monotonic() - started
    first, peak = await rss
    last = [vm_kb(pid, "VmRSS") for pid in pids]
    await asyncio.gather(*(http.aclose() for http in clients))
    print(
        f"{took / 60:.1f} min, {len(bases)} servers, {args.ingesters} ingesters "
        f"(batches of {args.batch}), {args.dialers} dialers, {args.readers} report readers"
    )
    for kind in sorted(run.latencies):
        lat = run.latencies[kind]
        print(
            f"  {kind:<20} {len(lat):>8,} requests = {len(lat) / took:7.1f}/s, "
            f"p50 {statistics.median(lat) * 1000:7.1f} ms, p99 {p99(lat) * 1000:7.1f} ms"
        )
    print("  " + ", ".join(f"{k}: {v:,}" for k, v in sorted(run.n.items())))
    print(f"  events applied: {run.n['events applied'] / took:,.0f}/s")
    errors = {f"{k} {s}": c for (k, s), c in run.statuses.items() if s >= 400}
    print(
        f"  errors by status: {errors or 'none'}; transport errors: "
        f"{dict(run.transport_errors) or 'none'}"
    )
    for pid, a, p, z in zip(pids, first, peak, last, strict=True):
        print(
            f"  server {pid} RSS: {a // 1024} MB after warm-up, peak {p // 1024} MB, "
            f"{z // 1024} MB at the end (growth {(z - a) // 1024:+} MB)"
        )
    return run


async def lost_events(url: str, acknowledged: set[str]) -> None:
    engine = create_async_engine(async_database_url(url), poolclass=NullPool)
    async with AsyncSession(bind=engine) as session:
        stored = set((await session.execute(text("SELECT id FROM events"))).scalars())
    await engine.dispose()
    lost = acknowledged - stored
    print(f"audit: {len(acknowledged):,} events acknowledged as applied; lost: {len(lost)}")


async def full_key(url: str) -> str:
    engine = create_async_engine(async_database_url(url), poolclass=NullPool)
    async with AsyncSession(bind=engine, expire_on_commit=False) as session:
        issued = await tenancy.create_key(session, "bench", tenancy.ALL_SCOPES)
        await session.commit()
    await engine.dispose()
    return issued.key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--dialers", type=int, default=8)
    parser.add_argument("--ingesters", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--readers", type=int, default=1)
    parser.add_argument("--database", default="soak_bench", help="scratch database name")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(load())
    dsn = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    drop = f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'
    asyncio.run(admin(dsn, drop))
    asyncio.run(admin(dsn, f'CREATE DATABASE "{args.database}"'))
    url = with_database(dsn, args.database)
    os.environ["TACTFUL_RATE_LIMITS_ENABLED"] = "false"  # the servers inherit it
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Any] = []
    try:
        upgrade(url)
        _, at = asyncio.run(prepare(url, args.accounts))
        key = asyncio.run(full_key(url))
        bases = []
        for _ in range(args.servers):
            logs.append(open(os.devnull, "wb"))  # noqa: SIM115
            proc, base = start_server(url, logs[-1])
            procs.append(proc)
            bases.append(base)
        run = asyncio.run(soak(bases, key, at, args, [p.pid for p in procs]))
        print(load())
        asyncio.run(lost_events(url, run.acknowledged))
        asyncio.run(audit(url, at))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=60)
        for log in logs:
            log.close()
        if not args.keep:
            asyncio.run(admin(dsn, drop))


if __name__ == "__main__":
    main()
