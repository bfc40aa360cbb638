"""Concurrent batches on real commits: exactly once, and no deadlocks."""

import asyncio
import random

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.conftest import committed_key
from tests.events.helpers import Events, delinquent, event, payment, statuses

REFS = ["A-1", "A-2", "A-3", "A-4"]


async def count(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def test_five_identical_batches_with_one_key_apply_once(
    committed_client: httpx.AsyncClient,
    committed_sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
) -> None:
    events = Events(committed_client, await committed_key(committed_sessionmaker))
    await events.post(delinquent("e1"))
    batch = [payment(f"p{n}", 100, minutes=n + 1) for n in range(20)]
    headers = {"Idempotency-Key": "batch-7"}

    async with engine.connect() as blocker:
        # Hold the account so whichever request runs first waits inside its transaction.
        await blocker.execute(text("SELECT 1 FROM accounts WHERE ref = 'L-1' FOR UPDATE"))
        tasks = [asyncio.create_task(events.send(batch, **headers)) for _ in range(5)]
        for _ in range(200):
            if sum(task.done() for task in tasks) == 4:
                break
            await asyncio.sleep(0.05)
        await blocker.rollback()
    responses = [await task for task in tasks]

    ran = [r for r in responses if r.status_code == 200 and "Idempotent-Replayed" not in r.headers]
    refused = [r for r in responses if r.status_code == 409]
    assert len(ran) == 1 and len(refused) == 4, [r.status_code for r in responses]
    assert statuses(ran[0].json()) == ["applied"] * 20
    assert refused[0].headers["content-type"] == "application/problem+json"

    retry = await events.send(batch, **headers)
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == ran[0].json()
    assert await count(engine, "SELECT count(*) FROM payments") == 20
    assert await count(engine, "SELECT count(*) FROM events") == 21
    assert (await events.account())["balance"] == 320000 - 2000


async def test_identical_batches_without_a_key_apply_once(
    committed_client: httpx.AsyncClient,
    committed_sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
) -> None:
    events = Events(committed_client, await committed_key(committed_sessionmaker))
    batch = [delinquent("e1", ref="N-1"), payment("p1", 500, ref="N-1")]
    results = await asyncio.gather(*(events.post(*batch) for _ in range(4)))
    outcomes = sorted(tuple(statuses(r)) for r in results)
    assert outcomes == [("applied", "applied")] + [("duplicate", "duplicate")] * 3
    assert await count(engine, "SELECT count(*) FROM accounts") == 1
    assert (await events.account("N-1"))["balance"] == 319500


async def test_concurrent_batches_on_the_same_accounts_do_not_deadlock(
    committed_client: httpx.AsyncClient,
    committed_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    events = Events(committed_client, await committed_key(committed_sessionmaker))
    await events.post(*(delinquent(f"open-{ref}", ref=ref) for ref in REFS))
    rng = random.Random(7)
    batches = []
    for b in range(8):
        batch = [payment(f"b{b}-{ref}", 10 + b, ref=ref, minutes=b + 1) for ref in REFS]
        batch.append(delinquent(f"b{b}-new", ref="NEW-1", minutes=b))  # all open one account
        batch.append(event(f"b{b}-d", "dispute.opened", ref=rng.choice(REFS), reason="why"))
        rng.shuffle(batch)
        batches.append(batch)
    results = await asyncio.wait_for(
        asyncio.gather(*(events.post(*batch) for batch in batches)), timeout=60
    )
    assert all(r["applied"] == len(batch) for r, batch in zip(results, batches, strict=True))
    paid = sum(10 + b for b in range(8))
    for ref in REFS:
        assert (await events.account(ref))["balance"] == 320000 - paid
    assert (await events.account("NEW-1"))["status"] == "delinquent"
