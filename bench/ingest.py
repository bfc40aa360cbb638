"""Event ingestion: `tactful serve` on a scratch database with a demo portfolio, driven over
HTTP by concurrent clients posting mixed batches to POST /v1/events (70 % payments and balance
changes on demo accounts, 20 % new delinquencies, 10 % resends); prints events/s, p50/p99 batch
latency, the server's peak RSS, and the CPU per event of the server and of the PostgreSQL
backends serving the scratch database (from /proc). Rate limits are off (one key posts
everything). Where the time goes, phase by phase: bench/ingest_profile.py.

    .venv/bin/python bench/ingest.py [--accounts 100000] [--clients 8] [--batch 500] [--seconds 60]
        [--workers 1]

DATABASE_URL when set, else an embedded PostgreSQL under .data/bench-pg; a scratch database.
"""

import argparse
import asyncio
import contextlib
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from app.config import Settings, async_database_url
from app.db.embedded import EmbeddedPostgres
from app.db.migrations import upgrade
from app.db.resolve import with_database
from app.db.session import create_engine
from app.demo.loader import load_demo
from app.dialer.generation import sync_tasks
from app.reports.history import record_history
from app.tenancy import service as tenancy

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
Event = dict[str, Any]
Refs = list[tuple[str, str]]  # demo accounts' (ref, currency)
_COUNTS = ("applied", "duplicates", "rejected")


async def admin(dsn: str, sql: str) -> None:
    engine = create_async_engine(async_database_url(dsn), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


async def prepare(url: str, accounts: int) -> tuple[str, Refs]:
    """Tenant, events:write key, demo portfolio, its dialer queue and history intervals, and
    ANALYZE; the key and the accounts."""
    engine = create_engine(url, Settings(database_url=url, db_pool_size=2, db_max_overflow=2))
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        tenant = await tenancy.create_tenant(session, "bench", sandbox=True)
        issued = await tenancy.create_key(session, "bench", ["events:write"])
        await session.commit()
    wall = datetime.now(UTC)
    async with engine.connect() as conn:
        loaded = await load_demo(conn, tenant.id, accounts, today=wall.date(), now=wall, seed=7)
    print(f"loaded {loaded.accounts:,} demo accounts in {loaded.seconds:.1f} s")
    started = time.perf_counter()
    await in_service(engine, tenant.id, wall)
    print(f"dialer queue and history intervals kept in {time.perf_counter() - started:.1f} s")
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE"))
        query = text("SELECT ref, currency FROM accounts WHERE tenant_id = :t")
        refs = [(str(r), str(c)) for r, c in await conn.execute(query, {"t": tenant.id})]
    await engine.dispose()
    return issued.key, refs


async def in_service(engine: AsyncEngine, tenant_id: int, now: datetime) -> None:
    """What the evaluator keeps for a portfolio in service: each account's dialer tasks and
    open history interval. In slices on two connections, with ANALYZE after the first slices,
    so no statement is planned on an empty table."""
    async with engine.connect() as conn:
        query = text("SELECT id FROM accounts WHERE tenant_id = :t ORDER BY id")
        ids = list((await conn.execute(query, {"t": tenant_id})).scalars())
    slices = [ids[start : start + 2_000] for start in range(0, len(ids), 2_000)]

    async def keep(chunk: list[int]) -> None:
        async with async_sessionmaker(engine)() as session:
            await sync_tasks(session, tenant_id, "UTC", chunk, now)
            await record_history(session, tenant_id, chunk, now)
            await session.commit()

    await asyncio.gather(*(keep(chunk) for chunk in slices[:2]))
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE dialer_tasks, account_history"))
        await conn.commit()

    async def worker(mine: list[list[int]]) -> None:
        for chunk in mine:
            await keep(chunk)

    await asyncio.gather(worker(slices[2::2]), worker(slices[3::2]))


class Client:
    """One client's stream: fresh events, and resends of events it had applied earlier."""

    def __init__(self, n: int, accounts: Refs, size: int) -> None:
        self.n, self.accounts, self.size = n, accounts, size
        self.rng = random.Random(n)  # noqa: S311 - load generation, not security
        self.payments = self.created = 0
        self.sent: list[Event] = []

    def existing(self, at: str, day: str) -> Event:
        rng, (ref, currency) = self.rng, self.rng.choice(self.accounts)
        if rng.random() < 0.7:
            self.payments += 1
            payment_ref = f"BP-{self.n}-{self.payments}"
            data: Event = {"amount": rng.randint(100, 5_000), "payment_ref": payment_ref}
            if rng.random() < 0.5:
                data["currency"] = currency
            kind = "payment.received"
        else:
            balance = rng.randint(100, 5_000) * 100
            data = {"balance": balance, "due_date": day, "reason": "bench: re-aged"}
            kind = "balance.adjusted"
        return {"type": kind, "account_ref": ref, "occurred_at": at, "data": data}

    def delinquent(self, at: str, day: str) -> Event:
        self.created += 1
        k, principal = f"{self.n}-{self.created}", self.rng.randint(1_000, 50_000) * 100
        data = {
            "debtor": {"name": f"Bench Debtor {k}", "timezone": "America/Chicago",
                       "locale": "en-US", "customer_ref": f"BENCH-C-{k}"},
            "currency": "USD", "principal": principal, "balance": principal // 2,
            "due_date": day, "product": "personal_loan_12m",
            "contacts": [{"kind": "phone", "value": f"+13125550{self.rng.randint(100, 199)}",
                          "relationship": "self", "label": "mobile"}],
        }  # fmt: skip
        return {"type": "account.delinquent", "account_ref": f"BENCH-{k}", "occurred_at": at,
                "data": data}  # fmt: skip

    def batch(self) -> tuple[list[Event], int]:
        now, fresh, rng = datetime.now(UTC), [], self.rng
        new, dups = self.size // 5, self.size // 10
        for i in range(self.size - dups):
            at = (now - timedelta(seconds=rng.uniform(1, 5))).isoformat(timespec="milliseconds")
            day = (now.date() - timedelta(days=rng.randint(1, 120))).isoformat()
            event = self.delinquent(at, day) if i < new else self.existing(at, day)
            fresh.append({"id": uuid.uuid4().hex, **event})
        pool = self.sent or fresh  # the first batch resends its own events
        events = fresh + [rng.choice(pool) for _ in range(dups)]
        rng.shuffle(events)
        return events, dups


@dataclass
class Totals:
    n: Counter[str] = field(default_factory=Counter)  # posted, applied, ...; lost: not a 200
    failures: Counter[str] = field(default_factory=Counter)  # batches without a 200
    reasons: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


async def drive(client: Client, http: httpx.AsyncClient, deadline: float, totals: Totals) -> None:
    while time.monotonic() < deadline:
        events, dups = client.batch()
        started = time.perf_counter()
        try:
            response = await http.post("/v1/events", json={"events": events})
            code = response.status_code
            failure = "" if code == 200 else f"{code} {response.text}"
        except httpx.HTTPError as exc:
            failure = f"{type(exc).__name__}: {exc}"
        if failure:
            totals.n["lost"] += len(events)
            totals.failures[failure[:200]] += 1
            continue
        totals.latencies.append(time.perf_counter() - started)
        body = response.json()
        totals.n.update(posted=len(events), resent=dups, **{k: body[k] for k in _COUNTS})
        for event, result in zip(events, body["results"], strict=True):
            if result["status"] == "applied":
                client.sent.append(event)
            elif result["status"] == "rejected" and len(totals.reasons) < 5:
                totals.reasons.append(f"{event['type']}: {result['error']['detail']}")
        del client.sent[:-5_000]


def vm_kb(pid: int, name: str) -> int:  # VmRSS or VmHWM (the peak) in kB
    with contextlib.suppress(OSError):
        found = Path(f"/proc/{pid}/status").read_text().partition(f"\n{name}:")[2].split()
        return int(found[0]) if found else 0
    return 0  # the process has exited


def cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds used by one process, or by the whole machine (all but idle and iowait)."""
    if pid is not None:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICK


def process_tree(pid: int) -> list[int]:
    """The server and its worker processes (`tactful serve --workers N`)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(OSError):
        return [pid, *(int(c) for c in children.read_text().split())]
    return [pid]


class CpuMeter:
    """CPU of a changing set of processes from the first sample on: a process first seen
    later started during the run and counts whole; one that exits keeps its last sample."""

    def __init__(self) -> None:
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.samples = 0

    def sample(self, pids: list[int]) -> None:
        for pid in pids:
            with contextlib.suppress(OSError):
                used = cpu_seconds(pid)
                self.first.setdefault(pid, used if self.samples == 0 else 0.0)
                self.last[pid] = used
        self.samples += 1

    @property
    def seconds(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


_BACKENDS = text(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid()"
)


async def run(
    base: str, key: str, refs: Refs, args: argparse.Namespace, pid: int, url: str
) -> None:
    clients = [Client(n, refs, args.batch) for n in range(args.clients)]
    headers = {"Authorization": f"Bearer {key}"}
    https = [httpx.AsyncClient(base_url=base, headers=headers, timeout=300) for _ in clients]
    engine = create_engine(url, Settings(database_url=url, db_pool_size=1))
    # Autocommit: pg_stat_activity is read once per transaction.
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    async with autocommit.connect() as conn:  # the PostgreSQL backends serving this database
        server, postgres = CpuMeter(), CpuMeter()

        async def sample() -> int:
            tree = process_tree(pid)
            server.sample(tree)
            postgres.sample(list((await conn.execute(_BACKENDS)).scalars()))
            return sum(vm_kb(p, "VmRSS") for p in tree)

        totals, peak = Totals(), (before := await sample())
        busy0, own0 = cpu_seconds(), time.process_time()
        deadline = (started := time.monotonic()) + args.seconds
        work = asyncio.gather(*(drive(c, h, deadline, totals) for c, h in zip(clients, https)))  # noqa: B905
        while not work.done():  # sample RSS and CPU once a second
            peak = max(peak, await sample())
            await asyncio.wait([work], timeout=1.0)
        await work
        took = time.monotonic() - started
        await sample()
        hwm = max(vm_kb(p, "VmHWM") for p in process_tree(pid))
    await engine.dispose()
    busy, own = (cpu_seconds() - busy0) / took, (time.process_time() - own0) / took
    await asyncio.gather(*(http.aclose() for http in https))
    lat, t, n = totals.latencies, totals, totals.n
    q = statistics.quantiles(
        lat if len(lat) > 1 else lat * 2 or [0.0] * 2, n=100, method="inclusive"
    )
    print(f"{len(lat):,} batches of {args.batch} from {args.clients} clients in {took:.1f} s")
    counts = ", ".join(f"{k} {n[k]:,}" for k in _COUNTS)
    print(f"events posted: {n['posted']:,} (of which {n['resent']:,} resends); {counts}")
    print(f"batches without a 200: {t.failures.total()} ({n['lost']:,} events, not counted above)")
    notes = [f"  rejected: {r}" for r in t.reasons]
    notes += [f"  failed {c}×: {f}" for f, c in t.failures.most_common(3)]
    print("".join(f"{note}\n" for note in notes), end="")
    print(f"sustained: {n['posted'] / took:,.0f} events/s ({n['applied'] / took:,.0f} applied/s)")
    print(f"batch latency: p50 {q[49]:.2f} s, p99 {q[98]:.2f} s, "
          f"max {max(lat, default=0):.2f} s")  # fmt: skip
    print(f"server RSS ({args.workers} worker(s), summed): {before // 1024} MB before, peak "
          f"{peak // 1024} MB sampled; largest VmHWM {hwm // 1024} MB")  # fmt: skip
    per_event = 1e6 / max(n["posted"], 1)
    print(f"CPU per event posted: server {server.seconds * per_event:,.0f} µs, PostgreSQL "
          f"backends of this database {postgres.seconds * per_event:,.0f} µs")  # fmt: skip
    rest = busy - (server.seconds + postgres.seconds) / took - own
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"cores busy: server {server.seconds / took:.2f}, PostgreSQL backends "
          f"{postgres.seconds / took:.2f}, bench clients {own:.2f}, everything else {rest:.2f} "
          f"(of {os.cpu_count()}); load average {load}")  # fmt: skip


def start_server(url: str, log: IO[bytes], workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = os.environ | {"DATABASE_URL": url, "TACTFUL_EVALUATOR_ENABLED": "false",
                        "TACTFUL_RATE_LIMITS_ENABLED": "false",
                        "TACTFUL_LOG_LEVEL": "WARNING"}  # fmt: skip
    command = [str(ROOT / ".venv/bin/tactful"), "serve", "--port", str(port), "--workers",
               str(workers)]  # fmt: skip
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)  # noqa: S603
    base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return proc, base
        time.sleep(0.25)
    proc.kill()
    log.seek(0)
    raise RuntimeError(f"the service did not become ready:\n{log.read().decode()[-2000:]}")


@contextlib.contextmanager
def scratch_database(name: str | None) -> Iterator[str]:
    """A migrated scratch database (on DATABASE_URL, else an embedded server), dropped after."""
    server, dsn = None, os.environ.get("DATABASE_URL")
    if not dsn:
        server = EmbeddedPostgres(Settings().data_dir.resolve() / "bench-pg")
        dsn = server.start()
    name = name or f"tactful_bench_{uuid.uuid4().hex[:6]}"
    asyncio.run(admin(dsn, f'CREATE DATABASE "{name}"'))
    try:
        upgrade(url := with_database(dsn, name))
        yield url
    finally:
        asyncio.run(admin(dsn, f'DROP DATABASE "{name}" WITH (FORCE)'))
        if server is not None and server.started_here:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    flags = ("accounts", 100_000), ("clients", 8), ("batch", 500), ("seconds", 60), ("workers", 1)
    for flag, default in flags:
        parser.add_argument(f"--{flag}", type=int, default=default)
    parser.add_argument("--database", help="the scratch database's name (dropped at the end)")
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with scratch_database(args.database) as url, tempfile.TemporaryFile() as log:
        key, refs = asyncio.run(prepare(url, args.accounts))
        proc, base = start_server(url, log, args.workers)
        try:
            asyncio.run(run(base, key, refs, args, proc.pid, url))
        finally:
            print(f"server exit code before SIGTERM: {proc.poll()} (None: running)")
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
            proc.kill()  # only if still running
            proc.wait()
            log.seek(0)
            if output := log.read().decode(errors="replace").strip():
                print(f"server log (its end):\n{output[-1500:]}")


if __name__ == "__main__":
    main()
