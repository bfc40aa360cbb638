"""A dialer killed while holding leases: the work comes back, its late words are handled."""

import asyncio
import json
import signal
import subprocess
import sys
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import ROOT
from tests.dialer.helpers import MORNING, shanghai_account
from tests.faults.conftest import Spawn
from tests.processes import auth, issue_key

ACCOUNTS = 4
AFTER_THE_LEASE = "2026-12-01T02:05:00+00:00"  # the leases (60 s from MORNING) have expired

# A dialer of its own: claims, prints its tasks, then waits on the calls until it is killed.
DIALER = """
import json, sys, time, httpx
url, key = sys.argv[1], sys.argv[2]
response = httpx.post(url + "/v1/dialer/claims", json={"limit": 10, "lease_seconds": 60},
                      headers={"Authorization": "Bearer " + key}, timeout=30)
print(json.dumps({"status": response.status_code, "body": response.json()}), flush=True)
time.sleep(600)
"""


async def run_dialer_until_killed(url: str, key: str) -> list[dict[str, Any]]:
    dialer = subprocess.Popen(
        [sys.executable, "-c", DIALER, url, key], cwd=ROOT, stdout=subprocess.PIPE
    )
    try:
        assert dialer.stdout is not None
        line = await asyncio.to_thread(dialer.stdout.readline)
    finally:
        dialer.send_signal(signal.SIGKILL)
        assert await asyncio.to_thread(dialer.wait, 30) == -signal.SIGKILL
    claimed = json.loads(line)
    assert claimed["status"] == 200, claimed
    return list(claimed["body"]["tasks"])


async def test_a_killed_dialers_work_returns_and_its_late_outcome_and_release_are_handled(
    database: str, db: AsyncConnection, spawn: Spawn
) -> None:
    server = spawn(database)
    await server.start()
    key = await issue_key(database, "sbx", sandbox=True)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=auth(key)) as http:
        clock = await http.put("/v1/sandbox/clock", json={"now": MORNING})
        assert clock.status_code == 200, clock.text
        for i in range(ACCOUNTS):
            body = shanghai_account(customer_ref=f"cust-{i}")
            opened = await http.put(f"/v1/accounts/K-{i}", json=body)
            assert opened.status_code == 201, opened.text

        held = await run_dialer_until_killed(server.url, key)
        assert {t["account_ref"] for t in held} == {f"K-{i}" for i in range(ACCOUNTS)}
        held_ids = {t["task_id"] for t in held}

        # Within the lease the work stays with the dead dialer.
        during = await http.post("/v1/dialer/claims", json={"limit": 10, "lease_seconds": 60})
        assert during.status_code == 200 and during.json()["tasks"] == []

        assert (await http.put("/v1/sandbox/clock", json={"now": AFTER_THE_LEASE})).is_success
        back = await http.post("/v1/dialer/claims", json={"limit": 10, "lease_seconds": 300})
        assert back.status_code == 200, back.text
        returned = back.json()["tasks"]
        assert {t["account_ref"] for t in returned} == {t["account_ref"] for t in held}
        assert not held_ids & {t["task_id"] for t in returned}  # new task ids

        for task in held:
            late_release = await http.post(f"/v1/dialer/tasks/{task['task_id']}/release")
            assert late_release.status_code == 409, late_release.text
        late = held[0]
        outcome = await http.post(
            f"/v1/dialer/tasks/{late['task_id']}/outcome",
            json={"occurred_at": "2026-12-01T02:00:30+00:00", "outcome": "no_answer"},
        )
        assert outcome.status_code == 201, outcome.text
        assert {"type": "stale_lease", "task_id": late["task_id"]} in outcome.json()["effects"]
        recorded = await http.get(f"/v1/accounts/{late['account_ref']}/interactions")
        assert [i["id"] for i in recorded.json()["items"]] == [outcome.json()["id"]]

        # The new holders are untouched by the dead dialer's late words.
        for task in returned:
            released = await http.post(f"/v1/dialer/tasks/{task['task_id']}/release")
            assert released.status_code == 200, released.text
    live = await db.scalar(text("SELECT count(*) FROM dialer_tasks WHERE lease_id IS NOT NULL"))
    assert live == 0
