"""Where a batch's time goes: the batches of bench/ingest.py (same portfolio, same mix) posted
one after another to an in-process app (no HTTP server, no concurrency) on one database
connection. Prints per event: the Python CPU of the request and the CPU of its PostgreSQL
backend (from /proc), then each phase's Python CPU (inclusive of the phases under it) and the
time of the statements it issued itself, statements per batch and the costliest statements.

    .venv/bin/python bench/ingest_profile.py [--accounts 100000] [--batches 10] [--batch 500]

DATABASE_URL when set, else an embedded PostgreSQL under .data/bench-pg; a scratch database.

CPU time, unlike wall time, holds on a shared machine; statement times are wall time
(PostgreSQL CPU plus waits), so compare them with each other, not across runs.
"""

import argparse
import asyncio
import importlib
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import Client, cpu_seconds, prepare, scratch_database

from app.config import Settings
from app.db.session import create_engine, create_sessionmaker

# (module, attribute, label, depth): the steps of POST /v1/events, in the order they run.
PHASES = [
    ("app.events.router", "service.ingest", "ingest (app/events/service.py)", 0),
    ("app.events.service", "_Batch.parse", "parse and validate", 1),
    ("app.events.service", "_Batch.lock", "lock the accounts", 1),
    ("app.events.service", "_Batch.check", "duplicates, payments, checks", 1),
    ("app.events.service", "apply_batch", "apply the batch", 1),
    ("app.events.apply", "_store", "store the events", 2),
    ("app.events.apply", "open_and_refresh", "open accounts, debtors", 2),
    ("app.events.apply", "_recount_episodes", "recount episodes", 2),
    ("app.events.apply", "_contacts", "contacts", 2),
    ("app.events.apply", "_payments", "payments", 2),
    ("app.events.apply", "_holds", "holds", 2),
    ("app.events.repository", "EventRepository.write_accounts", "account projection", 2),
    ("app.events.apply", "write_history", "stage history", 2),
    ("app.events.apply", "write_outbox_and_follow_ups", "outbox, follow-ups", 2),
    ("app.events.apply", "write_audit", "audit rows", 2),
    ("app.events.apply", "reevaluate", "reevaluate (app/evaluation)", 2),
    ("app.evaluation.service", "refresh_summaries", "episode summaries", 3),
    ("app.evaluation.service", "load_facts", "load facts", 3),
    ("app.evaluation.service", "evaluate", "policy (pure)", 3),
    ("app.evaluation.service", "apply_evaluations", "write decisions", 3),
    ("app.evaluation.apply", "sync_tasks", "sync_tasks (dialer queue)", 4),
    ("app.dialer.generation", "rules.load", "contact facts", 5),
    ("app.dialer.generation_repository", "GenerationRepository.contexts", "task contexts", 5),
    ("app.dialer.generation", "decide_contact", "contact rules (pure)", 5),
    ("app.dialer.generation_repository", "GenerationRepository.replace_tasks", "write tasks", 5),
    ("app.evaluation.apply", "record_history", "record_history", 4),
]
OUTSIDE = "(the request outside the service)"


class Phases:
    """Inclusive Python CPU per phase, and the time of the statements each issued itself."""

    def __init__(self) -> None:
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.db: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.stack: list[str] = []

    def wrap(self, module: str, attribute: str, label: str) -> None:
        owner: Any = importlib.import_module(module)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original: Callable[..., Any] = getattr(owner, name)
        if asyncio.iscoroutinefunction(original):

            @wraps(original)
            async def timed(*args: Any, **kwargs: Any) -> Any:
                started = self._start(label)
                try:
                    return await original(*args, **kwargs)
                finally:
                    self._done(label, started)

            setattr(owner, name, timed)
            return

        @wraps(original)
        def timed_sync(*args: Any, **kwargs: Any) -> Any:
            started = self._start(label)
            try:
                return original(*args, **kwargs)
            finally:
                self._done(label, started)

        setattr(owner, name, timed_sync)

    def _start(self, label: str) -> float:
        self.stack.append(label)
        return time.process_time()

    def _done(self, label: str, started: float) -> None:
        self.stack.pop()
        self.cpu[label] += time.process_time() - started
        self.calls[label] += 1

    def clear(self) -> None:
        for counter in (self.cpu, self.db, self.calls):
            counter.clear()


async def measure(url: str, key: str, refs: list[tuple[str, str]], args: Any) -> None:
    phases = Phases()
    for module, attribute, label, _ in PHASES:
        phases.wrap(module, attribute, label)
    from app.main import create_app  # after wrapping: the router holds the service module

    settings = Settings(database_url=url, evaluator_enabled=False, rate_limits_enabled=False)
    engine = create_engine(url, settings.model_copy(update={"db_pool_size": 1}))
    statements: defaultdict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def before(conn: Any, *_: Any) -> None:
        conn.info["started"] = time.perf_counter()

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def after(conn: Any, _: Any, statement: str, *__: Any) -> None:
        took = time.perf_counter() - conn.info["started"]
        phases.db[phases.stack[-1] if phases.stack else OUTSIDE] += took
        entry = statements[" ".join(statement.split())[:100]]
        entry[0] += 1
        entry[1] += took

    async with engine.connect() as conn:
        backend = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
    app = create_app(settings, sessionmaker=create_sessionmaker(engine))
    client, headers = Client(99, refs, args.batch), {"Authorization": f"Bearer {key}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://b", headers=headers, timeout=300
    ) as http:

        async def post(events: list[dict[str, Any]]) -> None:
            response = await http.post("/v1/events", json={"events": events})
            assert response.status_code == 200, response.text
            results = response.json()["results"]
            client.sent += [
                e for e, r in zip(events, results, strict=True) if r["status"] == "applied"
            ]

        for _ in range(2):  # warm up: caches, prepared statements
            await post(client.batch()[0])
        batches = [client.batch()[0] for _ in range(args.batches)]
        phases.clear()
        statements.clear()
        python, postgres, wall = time.process_time(), cpu_seconds(backend), time.perf_counter()
        for events in batches:
            await post(events)
        python, postgres = time.process_time() - python, cpu_seconds(backend) - postgres
        wall = time.perf_counter() - wall
    await engine.dispose()
    report(phases, statements, args, python, postgres, wall)


def report(
    phases: Phases,
    statements: dict[str, list[float]],
    args: Any,
    python: float,
    postgres: float,
    wall: float,
) -> None:
    per = 1e6 / (args.batches * args.batch)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{args.batches} batches of {args.batch}, one after another: {wall / args.batches:.3f} s "
          f"a batch; per event: Python {python * per:.0f} µs, PostgreSQL backend "
          f"{postgres * per:.0f} µs (load average {load})")  # fmt: skip
    print(f"{'phase':<38} {'calls/batch':>11} {'Python µs/event':>16} {'statements µs/event':>20}")
    for _, _, label, depth in PHASES:
        calls = phases.calls[label] / args.batches
        name = "  " * depth + label
        print(f"{name:<38} {calls:>11.1f} {phases.cpu[label] * per:>16.1f} "
              f"{phases.db[label] * per:>20.1f}")  # fmt: skip
    service = phases.cpu[PHASES[0][2]]
    print(f"{OUTSIDE:<38} {'':>11} {(python - service) * per:>16.1f} "
          f"{phases.db[OUTSIDE] * per:>20.1f}")  # fmt: skip
    count = sum(int(c) for c, _ in statements.values())
    print(f"statements per batch: {count / args.batches:.1f}; the costliest (ms per batch):")
    for sql, (calls, took) in sorted(statements.items(), key=lambda kv: -kv[1][1])[:12]:
        print(f"  {took * 1e3 / args.batches:7.1f}  {calls / args.batches:4.1f}×  {sql}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for flag, default in (("accounts", 100_000), ("batches", 10), ("batch", 500)):
        parser.add_argument(f"--{flag}", type=int, default=default)
    parser.add_argument("--database", help="the scratch database's name (dropped at the end)")
    args = parser.parse_args()
    with scratch_database(args.database) as url:
        key, refs = asyncio.run(prepare(url, args.accounts))
        asyncio.run(measure(url, key, refs, args))


if __name__ == "__main__":
    main()
