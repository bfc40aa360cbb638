"""Pool exhaustion answers fast 503s; SIGTERM drains in-flight requests, cuts background work
short after the grace period, hands back what it leased and exits 0."""

import asyncio
import signal

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.clock import system_now
from app.errors import PROBLEM_JSON
from tests.factories import account_body
from tests.faults.conftest import Spawn, locked, wait_for_lock_waiter
from tests.processes import auth, issue_key
from tests.webhooks.receiver import HANG, receiving

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


async def test_sigterm_cuts_a_hung_delivery_short_after_the_grace_and_hands_it_back(
    database: str, db: AsyncConnection, spawn: Spawn
) -> None:
    # The receiver never answers within the webhook timeout: only the grace period ends it.
    server = spawn(
        database,
        webhook_allow_private="true",
        webhook_timeout_seconds=60,
        shutdown_grace_seconds=1,
    )
    await server.start()
    key = await issue_key(database)
    async with receiving() as receiver:
        receiver.script = [(HANG, {})]
        async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=auth(key)) as http:
            hook = {"url": receiver.url, "events": ["payment.received"]}
            assert (await http.post("/v1/webhooks", json=hook)).status_code == 201
            body = account_body(debtor={"name": "Li Wei", "locale": "zh-CN", "customer_ref": "c"})
            assert (await http.put("/v1/accounts/W-1", json=body)).status_code == 201
            payment = {
                "id": "pay-1",
                "type": "payment.received",
                "occurred_at": system_now().isoformat(),
                "account_ref": "W-1",
                "data": {"amount": 100, "payment_ref": "p-1"},
            }
            paid = await http.post("/v1/events", json={"events": [payment]})
            assert paid.json()["applied"] == 1, paid.text
        await asyncio.wait_for(receiver.arrived.wait(), 60)
        leased = "SELECT count(*) FROM webhook_deliveries WHERE leased_until IS NOT NULL"
        assert await db.scalar(text(leased)) == 1
        server.signal(signal.SIGTERM)
        assert await server.wait(timeout=120) == 0, server.log_tail()
    delivery = await db.execute(
        text(
            "SELECT status, retry_step, last_error, leased_until, next_attempt_at <= now() "
            "FROM webhook_deliveries"
        )
    )
    # Neither sent nor failed (no retry scheduled): handed back, due at once.
    assert tuple(delivery.one()) == ("pending", 0, None, None, True)
