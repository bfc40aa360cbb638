"""Delivery workers side by side and real `tactful deliver` processes stopped mid-round:
SIGTERM finishes or hands back the round and exits 0; after SIGKILL another worker sends
what the dead one had leased. Real commits (the processes share the test database)."""

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import system_now
from app.config import Settings
from app.webhooks import repository, worker
from tests.conftest import ROOT, api_client, bearer, committed_key
from tests.processes import cli_env
from tests.webhooks.conftest import LEASED, Hooks
from tests.webhooks.receiver import HANG, Receiver

SENDER_TIMEOUT = 30  # seconds; a hanging receiver outlasts the test, never this timeout
Deliver = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
async def committed_hooks(
    local_settings: Settings, committed_sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Hooks]:
    key = await committed_key(committed_sessionmaker)
    async with api_client(local_settings, committed_sessionmaker) as http:
        yield Hooks(http, bearer(key), committed_sessionmaker, local_settings)


@pytest.fixture
def deliver(database_url: str, tmp_path: Path, committed_sessionmaker: object) -> Iterator[Deliver]:
    """deliver(**settings) → a running `tactful deliver`; any still running is killed at the
    end, before the committed tables are emptied."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**settings: Any) -> subprocess.Popen[bytes]:
        env = cli_env(
            database_url,
            webhook_allow_private=True,
            webhook_timeout_seconds=SENDER_TIMEOUT,
            **settings,
        )
        log = (tmp_path / f"deliver-{len(started)}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "deliver"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(30)


async def leased(hooks: Hooks) -> int:
    async with hooks.sessionmaker() as session:
        return int(await session.scalar(LEASED) or 0)


async def one_payment_in_flight(
    hooks: Hooks, receiver: Receiver, deliver: Deliver, **settings: Any
) -> tuple[dict[str, Any], subprocess.Popen[bytes]]:
    """A payment webhook a `tactful deliver` has sent and the receiver holds unanswered."""
    hook = await hooks.subscribe(receiver.url, ["payment.received"])
    await hooks.account("P-1")
    await hooks.pay("P-1")
    receiver.script = [(HANG, {})]
    process = deliver(**settings)
    await asyncio.wait_for(receiver.arrived.wait(), 120)
    assert await leased(hooks) == 1
    return hook, process


async def test_sigterm_mid_round_hands_back_what_is_unanswered_and_exits_0(
    committed_hooks: Hooks, receiver: Receiver, deliver: Deliver
) -> None:
    hooks = committed_hooks
    hook, process = await one_payment_in_flight(
        hooks, receiver, deliver, shutdown_grace_seconds=0.5
    )
    process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(process.wait, 60) == 0
    assert await leased(hooks) == 0
    [delivery] = await hooks.log(hook)
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)

    assert await hooks.deliver() == 1  # at once, not after the lease
    [delivery] = await hooks.log(hook)
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)


async def test_sigterm_mid_round_lets_the_round_finish_and_exits_0(
    committed_hooks: Hooks, receiver: Receiver, deliver: Deliver
) -> None:
    hooks = committed_hooks
    hook, process = await one_payment_in_flight(hooks, receiver, deliver, shutdown_grace_seconds=60)
    process.send_signal(signal.SIGTERM)
    receiver.release.set()
    assert await asyncio.to_thread(process.wait, 60) == 0
    [delivery] = await hooks.log(hook)
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 1)
    assert await leased(hooks) == 0


async def test_sigkill_mid_round_leaves_the_work_to_another_worker(
    committed_hooks: Hooks, receiver: Receiver, deliver: Deliver
) -> None:
    hooks = committed_hooks
    hook, process = await one_payment_in_flight(hooks, receiver, deliver)
    process.send_signal(signal.SIGKILL)
    assert await asyncio.to_thread(process.wait, 60) == -signal.SIGKILL
    assert await leased(hooks) == 1

    assert await hooks.deliver() == 0  # still leased to the dead worker
    after_lease = system_now() + timedelta(seconds=SENDER_TIMEOUT + 31)
    assert await hooks.deliver(after_lease) == 1
    [delivery] = await hooks.log(hook)
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["id"]


async def test_workers_at_once_send_each_delivery_exactly_once(
    committed_hooks: Hooks, receiver: Receiver
) -> None:
    """Three workers lease five deliveries each: one first, then two racing each other while
    it still holds its leases. The receiver answers nothing until all have arrived, so every
    worker holds its leases at the same time."""
    hooks, count, batch = committed_hooks, 15, 5
    hook = await hooks.subscribe(receiver.url, ["payment.received"])
    await hooks.account("P-2")
    for n in range(count):
        await hooks.pay("P-2", n)
    receiver.script = [(HANG, {})] * count
    async with hooks.sessionmaker() as session:  # fanned out first, so all find work to lease
        assert await repository.dispatch(session, system_now(), 100) == count
        await session.commit()

    async def worker_round() -> int:
        async with worker.new_client(hooks.settings) as http:
            return await worker.deliver_once(hooks.sessionmaker, http, hooks.settings, batch=batch)

    first = asyncio.ensure_future(worker_round())
    await asyncio.wait_for(receiver.until(batch), 60)
    racing = asyncio.gather(worker_round(), worker_round())
    await asyncio.wait_for(receiver.until(count), 60)
    receiver.release.set()
    assert [await first, *await racing] == [batch] * 3

    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == count
    log = await hooks.log(hook)
    assert {d["id"] for d in log} == set(ids)
    assert {(d["status"], d["attempts"]) for d in log} == {("delivered", 1)}
    assert await hooks.deliver() == 0
