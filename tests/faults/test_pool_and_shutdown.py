"""Pool exhaustion answers fast 503s; SIGTERM drains in-flight requests and exits 0."""

import asyncio
import signal

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from app.errors import PROBLEM_JSON
from tests.faults.conftest import Spawn, locked, wait_for_lock_waiter
from tests.processes import auth, issue_key

CONCURRENT = 200


async def test_an_exhausted_pool_answers_503_fast_and_recovers(
    database: str, db: AsyncConnection, spawn: Spawn
) -> None:
    server = spawn(database, db_pool_size=2, db_max_overflow=0, db_pool_timeout_seconds=0.5)
    await server.start()
    key = await issue_key(database)
    limits = httpx.Limits(max_connections=CONCURRENT + 10)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as http:
        # Every request's key lookup waits on the lock: two hold the pool's two connections.
        async with locked(database, "api_keys"):
            requests = [
                asyncio.create_task(http.get("/v1/accounts", headers=auth(key)))
                for _ in range(CONCURRENT)
            ]
            await wait_for_lock_waiter(db)
            done: set[asyncio.Task[httpx.Response]] = set()
            pending = set(requests)
            for _ in range(100):  # the lock outlives the pool timeout by far
                if len(pending) <= 2:
                    break
                more, pending = await asyncio.wait(pending, timeout=0.25)
                done |= more
            health = await http.get("/healthz")
            still_waiting = len(pending)
        held = [await task for task in pending]
        after = await http.get("/v1/accounts", headers=auth(key))
    assert still_waiting == 2
    assert health.status_code == 200
    refused = [task.result() for task in done]
    for response in refused:
        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.headers["Retry-After"] == "1"
    assert [r.status_code for r in held] == [200, 200]
    assert after.status_code == 200


async def test_sigterm_finishes_in_flight_requests_then_exits_zero(
    database: str, db: AsyncConnection, spawn: Spawn
) -> None:
    server = spawn(database, evaluator_enabled="true", evaluator_interval_seconds=0.2)
    await server.start()
    key = await issue_key(database)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        async with locked(database, "api_keys"):
            in_flight = asyncio.create_task(http.get("/v1/accounts", headers=auth(key)))
            await wait_for_lock_waiter(db)
            server.signal(signal.SIGTERM)
            refused = False
            async with httpx.AsyncClient(base_url=server.url, timeout=2) as fresh:
                for _ in range(100):
                    try:
                        await fresh.get("/healthz")
                    except httpx.TransportError:  # refused, or accepted then closed unserved
                        refused = True
                        break
                    await asyncio.sleep(0.05)
            assert not in_flight.done()
        answered = await in_flight
    assert refused, "the server kept accepting connections after SIGTERM"
    assert answered.status_code == 200
    assert await server.wait(timeout=30) == 0, server.log_tail()
