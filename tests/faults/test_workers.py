"""`tactful serve --workers N`: N processes answer on one port; SIGTERM stops them all, 0."""

import signal
from pathlib import Path

import httpx

from tests.faults.conftest import Spawn, delinquent_batch
from tests.processes import auth, issue_key


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def test_two_workers_serve_one_port_and_stop_on_sigterm(database: str, spawn: Spawn) -> None:
    server = spawn(database, workers=2)
    await server.start()
    assert server.process is not None
    supervisor = server.process.pid
    workers = [
        pid
        for pid in children(supervisor)
        if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()
    ]
    assert len(workers) == 2
    key = await issue_key(database)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        for n in range(4):
            response = await http.post(
                "/v1/events", json={"events": delinquent_batch(f"w{n}", 5)}, headers=auth(key)
            )
            assert response.status_code == 200, response.text
            assert response.json()["applied"] == 5
    server.signal(signal.SIGTERM)
    assert await server.wait(timeout=30) == 0, server.log_tail()
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
