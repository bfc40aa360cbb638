"""A server killed mid-batch, and PostgreSQL restarted under load."""

import asyncio
import itertools
import signal
import time
from dataclasses import dataclass, field

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from app.config import async_database_url
from app.errors import PROBLEM_JSON
from tests.faults.conftest import (
    Postgres,
    Spawn,
    delinquent_batch,
    locked,
    wait_for_lock_waiter,
    wait_for_no_server_backends,
)
from tests.processes import auth, issue_key

EVENT_COUNT = text("SELECT count(*) FROM events")


async def test_a_batch_killed_in_flight_is_applied_exactly_once_on_retry(
    database: str, db: AsyncConnection, spawn: Spawn
) -> None:
    server = spawn(database)
    await server.start()
    key = await issue_key(database)
    headers = auth(key) | {"Idempotency-Key": "batch-1"}
    body = {"events": delinquent_batch("K", 1000)}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        warm = await http.post("/v1/events", json={"events": []}, headers=auth(key))
        assert warm.status_code == 200
        # The audit rows are written last: holding their table stops the batch with its
        # events, accounts and history already written, uncommitted.
        async with locked(database, "audit_log"):
            in_flight = asyncio.create_task(http.post("/v1/events", json=body, headers=headers))
            await wait_for_lock_waiter(db)
            server.signal(signal.SIGKILL)
            assert await server.wait() == -signal.SIGKILL
        try:
            await in_flight
            raise AssertionError("the killed server answered")
        except httpx.TransportError:
            pass
    await wait_for_no_server_backends(db)
    assert await db.scalar(EVENT_COUNT) == 0
    assert await db.scalar(text("SELECT count(*) FROM accounts")) == 0

    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        retried = await http.post("/v1/events", json=body, headers=headers)
        again = await http.post("/v1/events", json=body, headers=headers)
    assert retried.status_code == 200, retried.text
    assert retried.json()["applied"] == 1000
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == retried.json()
    assert await db.scalar(EVENT_COUNT) == 1000
    assert await db.scalar(text("SELECT count(*) FROM accounts")) == 1000


@dataclass
class Load:
    """Clients posting small batches of fresh events; what each answer was."""

    url: str
    key: str
    ids: "itertools.count[int]" = field(default_factory=itertools.count)
    acknowledged: set[str] = field(default_factory=set)
    answers: list[tuple[float, float, int, httpx.Response]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    running: bool = True

    async def client(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            while self.running:
                batch = delinquent_batch(f"L{next(self.ids)}", 5)
                started = time.monotonic()
                try:
                    response = await http.post(
                        "/v1/events", json={"events": batch}, headers=auth(self.key)
                    )
                except httpx.TransportError as exc:  # a hang (timeout) or a dropped connection
                    self.failures.append(repr(exc))
                    continue
                self.answers.append((started, time.monotonic(), response.status_code, response))
                if response.status_code == 200:
                    results = response.json()["results"]
                    self.acknowledged |= {r["id"] for r in results if r["status"] == "applied"}
                else:
                    await asyncio.sleep(0.05)

    def first_success_after(self, instant: float) -> float | None:
        done = [end for start, end, status, _ in self.answers if status == 200 and start >= instant]
        return min(done) if done else None


async def test_postgres_restart_under_load_gives_503s_then_recovers(
    postgres: Postgres, database: str, spawn: Spawn
) -> None:
    server = spawn(database, db_pool_size=4, db_max_overflow=0, db_pool_timeout_seconds=2)
    await server.start()
    load = Load(server.url, await issue_key(database))
    clients = [asyncio.create_task(load.client()) for _ in range(6)]
    await asyncio.sleep(1.5)
    await asyncio.to_thread(postgres.stop)
    down = time.monotonic()
    await asyncio.sleep(1.5)
    # PostgreSQL accepts connections a moment before `start` returns: only what ended before
    # the restart began was surely answered while it was down.
    restarting = time.monotonic()
    await asyncio.to_thread(postgres.start)
    up = time.monotonic()
    while load.first_success_after(up) is None and time.monotonic() - up < 15:
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    load.running = False
    await asyncio.gather(*clients)

    assert load.failures == []
    statuses = {status for _, _, status, _ in load.answers}
    assert statuses <= {200, 503}, statuses
    while_down = [r for s, e, status, r in load.answers if s >= down and e <= restarting]
    assert while_down and all(r.status_code == 503 for r in while_down)
    for _, _, status, response in load.answers:
        if status == 503:
            assert response.headers["content-type"] == PROBLEM_JSON
            assert int(response.headers["Retry-After"]) >= 1
            assert "Traceback" not in response.text and "asyncpg" not in response.text
    recovered = load.first_success_after(up)
    assert recovered is not None and recovered - up < 5, "no 2xx within 5 s of PostgreSQL up"

    async with httpx.AsyncClient(base_url=server.url) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 200
    engine = create_async_engine(async_database_url(database), poolclass=NullPool)
    async with engine.connect() as conn:
        stored = set((await conn.execute(text("SELECT id FROM events"))).scalars())
    await engine.dispose()
    assert load.acknowledged and load.acknowledged <= stored
