"""In-process admission: a batch waits, before taking any row lock, for the transactions of
the batches in flight that name one of its accounts, and only for those."""

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.events.admission import Admission


async def started(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncSession:
    session = sessionmaker()
    await session.execute(text("SELECT 1"))  # a transaction under way, as in a request
    return session


async def test_a_batch_waits_only_for_the_transactions_holding_its_accounts(
    committed_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    gate = Admission()
    first, second, third, other_tenant = [await started(committed_sessionmaker) for _ in range(4)]
    try:
        await gate.enter(first, 1, {"A", "B"})
        waiting = asyncio.create_task(gate.enter(second, 1, {"B", "C"}))
        await asyncio.wait_for(gate.enter(third, 1, {"C", "D"}), 1)  # shares nothing in flight
        await asyncio.wait_for(gate.enter(other_tenant, 2, {"A", "B"}), 1)  # refs per tenant
        await asyncio.sleep(0.05)
        assert not waiting.done()

        await first.rollback()  # a rollback releases as a commit does
        await asyncio.sleep(0.05)
        assert not waiting.done()  # C is still held by the third batch

        await third.commit()
        await asyncio.wait_for(waiting, 1)
        follower = asyncio.create_task(gate.enter(first, 1, {"A"}))
        await asyncio.wait_for(follower, 1)  # the first's refs were released
    finally:
        for session in (first, second, third, other_tenant):
            await session.close()


async def test_a_savepoint_ending_does_not_release_the_batch(
    committed_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    gate = Admission()
    first, second = [await started(committed_sessionmaker) for _ in range(2)]
    try:
        await gate.enter(first, 1, {"A"})
        async with first.begin_nested():
            await first.execute(text("SELECT 1"))
        waiting = asyncio.create_task(gate.enter(second, 1, {"A"}))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await first.commit()
        await asyncio.wait_for(waiting, 1)
    finally:
        await first.close()
        await second.close()
