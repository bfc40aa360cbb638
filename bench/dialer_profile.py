"""Where a dialer request's time goes: claims, outcomes and releases through an in-process app
(no network, one request at a time) on a database `bench/dialer.py --keep` left behind.

    .venv/bin/python bench/dialer_profile.py --database dialer_bench [--rounds 20] [--cprofile]

Per endpoint it prints the requests, wall time per request, SQL statements per request and
the time spent waiting on them (client side: sent → rows back), then the slowest statements.
With `--cprofile`, the Python functions that took the most time; with `--sample`, a
pyinstrument call tree (`.venv/bin/pip install pyinstrument`; not a dependency).
"""

import argparse
import asyncio
import cProfile
import importlib
import os
import pstats
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dialer import OUTCOMES

from app.config import Settings
from app.db.resolve import with_database
from app.db.session import create_engine, create_sessionmaker
from app.main import create_app
from app.tenancy import service as tenancy


@dataclass
class Tally:
    requests: int = 0
    wall: float = 0.0
    statements: int = 0
    sql: float = 0.0
    by_statement: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


class Recorder:
    """Times every statement the engine sends, attributed to the endpoint in flight."""

    def __init__(self) -> None:
        self.current: Tally | None = None
        self.started: dict[int, float] = {}

    def attach(self, engine: Any) -> None:
        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            self.started[id(cursor)] = time.perf_counter()

        @event.listens_for(engine.sync_engine, "after_cursor_execute")
        def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            took = time.perf_counter() - self.started.pop(id(cursor), time.perf_counter())
            if self.current is not None:
                self.current.statements += 1
                self.current.sql += took
                self.current.by_statement[" ".join(statement.split())[:110]].append(took)


async def run(url: str, rounds: int, profiler: cProfile.Profile | None, top: int) -> None:
    settings = Settings(database_url=url, evaluator_enabled=False, rate_limits_enabled=False)
    engine = create_engine(url, settings)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        tenant_id = await session.scalar(text("SELECT id FROM tenants WHERE name = 'bench'"))
        at = await session.scalar(
            text("SELECT clock_frozen_at FROM tenants WHERE id = :t"), {"t": tenant_id}
        )
        key = await tenancy.create_key(session, "bench", ["dialer"])
        await session.commit()
    recorder = Recorder()
    recorder.attach(engine)
    tallies: dict[str, Tally] = defaultdict(Tally)
    app = create_app(settings, sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {key.key}"}

    async def call(name: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        tally = recorder.current = tallies[name]
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        response = await http.post(path, json=body)
        if profiler:
            profiler.disable()
        tally.wall += time.perf_counter() - started
        tally.requests += 1
        recorder.current = None
        if response.status_code >= 300:
            print(f"{name}: {response.status_code} {response.text[:200]}")
        return response

    async with httpx.AsyncClient(transport=transport, base_url="http://b", headers=headers) as http:
        for n in range(rounds):
            claim = {"limit": 10, "lease_seconds": 300}
            tasks = (await call("claim", "/v1/dialer/claims", claim)).json()["tasks"]
            for task in tasks:
                path = f"/v1/dialer/tasks/{task['task_id']}/"
                if n % 2:
                    await call("release", path + "release")
                else:
                    body = {"occurred_at": at.isoformat(), "outcome": random.choice(OUTCOMES)}  # noqa: S311
                    await call("outcome", path + "outcome", body)
    await engine.dispose()
    for name, tally in tallies.items():
        n = max(tally.requests, 1)
        print(
            f"{name}: {tally.requests} requests, {tally.wall / n * 1000:.1f} ms each, "
            f"{tally.statements / n:.1f} statements ({tally.sql / n * 1000:.1f} ms in SQL)"
        )
        slowest = sorted(tally.by_statement.items(), key=lambda kv: -sum(kv[1]))[:top]
        for statement, times in slowest:
            print(f"   {len(times) / n:5.1f}× {sum(times) / n * 1000:6.2f} ms  {statement}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="dialer_bench")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--flat", action="store_true", help="--sample: functions by own time")
    parser.add_argument("--top", type=int, default=12, help="statements listed per endpoint")
    parser.add_argument(
        "--sample", action="store_true", help="a pyinstrument sampling profile of the whole run"
    )
    parser.add_argument("--sort", default="tottime", help="cProfile order: tottime, cumulative")
    args = parser.parse_args()
    dsn = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    profiler = cProfile.Profile() if args.cprofile else None
    sampler = None
    if args.sample:
        sampler = importlib.import_module("pyinstrument").Profiler(interval=0.0005)
        sampler.start()
    asyncio.run(run(with_database(dsn, args.database), args.rounds, profiler, args.top))
    if sampler:
        sampler.stop()
        print(sampler.output_text(unicode=True, color=False, show_all=False, flat=args.flat))
    if profiler:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(45)


if __name__ == "__main__":
    main()
