"""Two real server processes, 32 concurrent claimers, committed data: no work is leased to two
callers at once and none is lost; expired leases come back under new ids; their outcomes are
recorded and flagged stale; their releases are refused."""

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.conftest import bearer, committed_key
from tests.dialer.helpers import MORNING, shanghai_account

ROOT = Path(__file__).resolve().parents[2]
ACCOUNTS = 40
CLAIMERS = 32
EXPIRED = "2026-12-01T02:10:00+00:00"  # past every 300 s lease of the first round


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def servers(database_url: str, count: int) -> Iterator[list[str]]:
    """`count` uvicorn processes of the real service on the test database."""
    env = os.environ | {
        "DATABASE_URL": database_url,
        "TACTFUL_EVALUATOR_ENABLED": "false",
        "TACTFUL_LOG_LEVEL": "WARNING",
        # The race is the subject here; 32 claimers on one key would otherwise spend the
        # key's rate-limit budget that the test's own clock changes share.
        "TACTFUL_RATE_LIMITS_ENABLED": "false",
    }
    procs, bases = [], []
    with tempfile.TemporaryFile() as log:
        try:
            for _ in range(count):
                port = _free_port()
                command = [
                    str(Path(sys.executable).parent / "tactful"),
                    "serve",
                    "--port",
                    str(port),
                ]
                procs.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log))
                bases.append(f"http://127.0.0.1:{port}")
            deadline = time.monotonic() + 60
            for base, proc in zip(bases, procs, strict=True):
                while True:
                    assert proc.poll() is None and time.monotonic() < deadline, _tail(log)
                    with contextlib.suppress(httpx.HTTPError):
                        if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                            break
                    time.sleep(0.2)
            yield bases
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _tail(log: Any) -> str:
    log.seek(0)
    return str(log.read().decode(errors="replace")[-3000:])


async def _claim_all(bases: list[str], auth: dict[str, str]) -> list[dict[str, Any]]:
    """32 claimers across the servers, each claiming until the queue has nothing for it."""
    got: list[dict[str, Any]] = []

    async def claimer(n: int) -> None:
        async with httpx.AsyncClient(base_url=bases[n % len(bases)], timeout=30) as http:
            empty = 0
            while empty < 2:
                response = await http.post(
                    "/v1/dialer/claims", json={"limit": 2, "lease_seconds": 300}, headers=auth
                )
                assert response.status_code == 200, response.text
                tasks = response.json()["tasks"]
                got.extend(tasks)
                empty = 0 if tasks else empty + 1

    await asyncio.gather(*(claimer(n) for n in range(CLAIMERS)))
    return got


async def _post_all(
    bases: list[str], auth: dict[str, str], paths: list[str], body: dict[str, Any] | None
) -> list[httpx.Response]:
    async def one(n: int, path: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=bases[n % len(bases)], timeout=30) as http:
            return await http.post(path, json=body, headers=auth)

    return list(await asyncio.gather(*(one(n, p) for n, p in enumerate(paths))))


async def _overlapping_leases(engine: AsyncEngine) -> int:
    """Pairs of leases of the same work, or of the same debtor, that were live together."""
    async with engine.connect() as conn:
        sql = """
            SELECT count(*) FROM dialer_leases a JOIN dialer_leases b
              ON a.tenant_id = b.tenant_id AND a.id < b.id
             AND (a.task_row_id = b.task_row_id OR a.debtor_id = b.debtor_id)
             AND a.leased_at < LEAST(b.expires_at, COALESCE(b.released_at, b.expires_at))
             AND b.leased_at < LEAST(a.expires_at, COALESCE(a.released_at, a.expires_at))
        """
        return int((await conn.execute(text(sql))).scalar_one())


async def test_two_servers_and_32_claimers(
    database_url: str,
    committed_client: httpx.AsyncClient,
    committed_sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
) -> None:
    auth = bearer(await committed_key(committed_sessionmaker, "race", sandbox=True))
    clock = await committed_client.put("/v1/sandbox/clock", json={"now": MORNING}, headers=auth)
    assert clock.status_code == 200, clock.text
    for n in range(ACCOUNTS):
        body = shanghai_account(customer_ref=f"cust-{n}")
        body["contacts"] = [
            {"kind": "phone", "value": f"+86 138 0000 {n:04d}", "relationship": "self"}
        ]
        created = await committed_client.put(f"/v1/accounts/R-{n}", json=body, headers=auth)
        assert created.status_code == 201, created.text

    with servers(database_url, 2) as bases:
        first = await _claim_all(bases, auth)
        ids = [t["task_id"] for t in first]
        assert len(ids) == len(set(ids)), "a task id was handed out twice"
        refs = Counter(t["account_ref"] for t in first)
        assert sorted(refs) == sorted(f"R-{n}" for n in range(ACCOUNTS)), "work was lost"
        assert set(refs.values()) == {1}, "work was leased twice"

        clock = await committed_client.put("/v1/sandbox/clock", json={"now": EXPIRED}, headers=auth)
        assert clock.status_code == 200, clock.text
        second = await _claim_all(bases, auth)
        assert sorted(t["account_ref"] for t in second) == sorted(refs), "expired work lost"
        assert not {t["task_id"] for t in second} & set(ids), "an expired lease kept its id"

        stale_releases = await _post_all(
            bases, auth, [f"/v1/dialer/tasks/{i}/release" for i in ids], None
        )
        assert {r.status_code for r in stale_releases} == {409}
        outcome = {"occurred_at": "2026-12-01T02:03:00+00:00", "outcome": "no_answer"}
        stale = await _post_all(
            bases, auth, [f"/v1/dialer/tasks/{i}/outcome" for i in ids], outcome
        )
        assert {r.status_code for r in stale} == {201}, [r.text for r in stale][:3]
        assert all(
            {"type": "stale_lease", "task_id": task_id} in r.json()["effects"]
            for task_id, r in zip(ids, stale, strict=True)
        )
        live = await _post_all(
            bases, auth, [f"/v1/dialer/tasks/{t['task_id']}/release" for t in second], None
        )
        assert {r.status_code for r in live} == {200}, "a stale outcome touched the new holder"

    assert await _overlapping_leases(engine) == 0
    async with engine.connect() as conn:
        recorded = (await conn.execute(text("SELECT count(*) FROM interactions"))).scalar_one()
    assert recorded == ACCOUNTS
