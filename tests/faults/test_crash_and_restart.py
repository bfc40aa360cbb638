"""A server killed mid-batch, and PostgreSQL restarted under load (event posters and dialers)."""

import asyncio
import signal
import time

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from app.config import async_database_url
from app.errors import PROBLEM_JSON
from tests.dialer.helpers import MORNING
from tests.faults.conftest import (
    Postgres,
    Spawn,
    delinquent_batch,
    locked,
    wait_for_lock_waiter,
    wait_for_no_server_backends,
)
from tests.faults.load import DOUBLE_LEASES, Load, dialer_accounts, stored, until
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


DIALER_ACCOUNTS = 200


async def test_postgres_restart_under_load_gives_503s_then_recovers(
    postgres: Postgres, database: str, spawn: Spawn
) -> None:
    server = spawn(database, db_pool_size=4, db_max_overflow=0, db_pool_timeout_seconds=2)
    await server.start()
    load = Load(
        server.url, await issue_key(database), await issue_key(database, "sbx", sandbox=True)
    )
    async with httpx.AsyncClient(
        base_url=server.url, timeout=60, headers=auth(load.dialer_key)
    ) as http:
        clock = await http.put("/v1/sandbox/clock", json={"now": MORNING})
        assert clock.status_code == 200, clock.text
        opened = await http.post("/v1/events", json={"events": dialer_accounts(DIALER_ACCOUNTS)})
        assert opened.status_code == 200 and opened.json()["applied"] == DIALER_ACCOUNTS
    clients = [asyncio.create_task(load.poster()) for _ in range(3)]
    clients += [asyncio.create_task(load.dialer()) for _ in range(3)]
    await until(lambda: load.leased() >= 6 and len(load.acknowledged) >= 10, "load before")
    await asyncio.to_thread(postgres.stop)
    down = time.monotonic()
    await asyncio.sleep(1)
    await until(lambda: load.answered(after=down) >= {"events", "claim"}, "answers while down")
    # PostgreSQL accepts connections a moment before `start` returns: only what ended before
    # the restart began was surely answered while it was down.
    restarting = time.monotonic()
    await asyncio.to_thread(postgres.start)
    up = time.monotonic()
    kinds = ("events", "claim")
    while time.monotonic() - up < 15 and any(
        load.first_success_after(up, k) is None for k in kinds
    ):
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    load.running = False
    await asyncio.gather(*clients)

    assert load.failures == []
    for answer in load.answers:
        final = {"events": {200}, "claim": {200}, "outcome": {201}, "release": {200}}[answer.kind]
        # A retry may find its first attempt committed though its answer was lost.
        assert answer.status in final | {503} | ({409} if answer.retry else set()), (
            answer.kind,
            answer.status,
            answer.response.text,
        )
        if answer.status == 503:
            assert answer.response.headers["content-type"] == PROBLEM_JSON
            assert int(answer.response.headers["Retry-After"]) >= 1
            assert "Traceback" not in answer.response.text
            assert "asyncpg" not in answer.response.text
    while_down = [a for a in load.answers if a.started >= down and a.ended <= restarting]
    assert {a.kind for a in while_down} >= {"events", "claim"}
    assert all(a.status == 503 for a in while_down)
    for kind in kinds:
        recovered = load.first_success_after(up, kind)
        assert recovered is not None and recovered - up < 5, f"no {kind} 2xx within 5 s of up"
    assert load.leased(after=up), "no work was leased after the restart"

    async with httpx.AsyncClient(base_url=server.url) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 200
    engine = create_async_engine(async_database_url(database), poolclass=NullPool)
    async with engine.connect() as conn:
        events = await stored(conn, "SELECT id FROM events")
        interactions = await stored(conn, "SELECT id FROM interactions")
        released = await stored(conn, "SELECT id FROM dialer_leases WHERE released_at IS NOT NULL")
        double_leases = await conn.scalar(DOUBLE_LEASES)
    await engine.dispose()
    assert load.acknowledged and load.acknowledged <= events
    assert load.recorded and load.recorded <= interactions
    assert load.released and load.released <= released
    assert double_leases == 0
