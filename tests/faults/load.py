"""Load for the restart test: event posters and dialers on one server, every answer kept.

Dialers claim, then report an outcome for some tasks and release the others.
"""

import asyncio
import itertools
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.dialer.helpers import MORNING, shanghai_account
from tests.faults.conftest import delinquent_batch
from tests.processes import auth

OUTCOME_EVERY = 8  # one task in eight gets an outcome (which uses the work up), the rest go back

# Leases of the same work, or of the same debtor, live together. The tenant's clock is frozen
# (no lease expires), so a lease is live from its taking to its end on the database's clock.
DOUBLE_LEASES = text(
    """
    SELECT count(*) FROM dialer_leases AS a JOIN dialer_leases AS b
      ON b.tenant_id = a.tenant_id AND b.id <> a.id
     AND (b.task_row_id = a.task_row_id OR b.debtor_id = a.debtor_id)
     AND b.created_at >= a.created_at AND b.created_at < COALESCE(a.ended_at, 'infinity')
    """
)


def dialer_accounts(count: int) -> list[dict[str, Any]]:
    """`count` account.delinquent events, each opening a Shanghai debtor's account with one
    phone: callable at MORNING."""
    return [
        {
            "id": f"D-{i}",
            "type": "account.delinquent",
            "occurred_at": "2026-11-01T09:00:00+00:00",
            "account_ref": f"D-{i}",
            "data": shanghai_account(
                customer_ref=f"dc-{i}",
                contacts=[
                    {"kind": "phone", "value": f"+86 138 0000 {i:04d}", "relationship": "self"}
                ],
            ),
        }
        for i in range(count)
    ]


@dataclass(frozen=True)
class Answer:
    kind: str  # events, claim, outcome, release
    started: float
    ended: float
    response: httpx.Response
    retry: bool  # sent again after a 503

    @property
    def status(self) -> int:
        return self.response.status_code


@dataclass
class Load:
    url: str
    events_key: str
    dialer_key: str
    ids: "itertools.count[int]" = field(default_factory=itertools.count)
    settled: "itertools.count[int]" = field(default_factory=itertools.count)
    acknowledged: set[str] = field(default_factory=set)  # events answered `applied`
    recorded: set[str] = field(default_factory=set)  # ids of the outcomes surely recorded
    released: set[str] = field(default_factory=set)  # the leases surely released
    answers: list[Answer] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    running: bool = True

    async def _post(
        self, http: httpx.AsyncClient, kind: str, path: str, body: Any, retry: bool = False
    ) -> httpx.Response | None:
        key = self.events_key if kind == "events" else self.dialer_key
        started = time.monotonic()
        try:
            response = await http.post(path, json=body, headers=auth(key))
        except httpx.TransportError as exc:  # a hang (timeout) or a dropped connection
            self.failures.append(f"{kind}: {exc!r}")
            return None
        self.answers.append(Answer(kind, started, time.monotonic(), response, retry))
        return response

    async def poster(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            while self.running:
                body = {"events": delinquent_batch(f"L{next(self.ids)}", 5)}
                response = await self._post(http, "events", "/v1/events", body)
                if response is not None and response.status_code == 200:
                    results = response.json()["results"]
                    self.acknowledged |= {r["id"] for r in results if r["status"] == "applied"}
                else:
                    await asyncio.sleep(0.05)

    async def dialer(self) -> None:
        """Claims on, while PostgreSQL is down too; a report answered 503 is sent again after
        the next claim (a real dialer's retry) until it gets a final answer."""
        unsettled: dict[str, dict[str, str] | None] = {}  # task id → its outcome, or None
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            while self.running or unsettled:
                for task_id, outcome in list(unsettled.items()):
                    if await self._settle(http, task_id, outcome, retry=True):
                        del unsettled[task_id]
                claimed = None
                if self.running:
                    body = {"limit": 2, "lease_seconds": 300}
                    claimed = await self._post(http, "claim", "/v1/dialer/claims", body)
                if claimed is None or claimed.status_code != 200:
                    await asyncio.sleep(0.05)
                    continue
                for task in claimed.json()["tasks"]:
                    outcome = None
                    if next(self.settled) % OUTCOME_EVERY == 0:
                        outcome = {"id": str(uuid.uuid4()), "occurred_at": MORNING}
                        outcome["outcome"] = "no_answer"
                    if not await self._settle(http, task["task_id"], outcome, retry=False):
                        unsettled[task["task_id"]] = outcome

    async def _settle(
        self, http: httpx.AsyncClient, task_id: str, outcome: dict[str, str] | None, retry: bool
    ) -> bool:
        """Report the outcome, or release the task when there is none; False when it is still
        to be done. A retry's 409 says its first attempt was committed (no lease expires)."""
        kind = "release" if outcome is None else "outcome"
        path = f"/v1/dialer/tasks/{task_id}/{kind}"
        response = await self._post(http, kind, path, outcome, retry)
        if response is None or response.status_code == 503:
            return False
        if response.status_code in (200, 201, 409):
            if outcome is None:
                self.released.add(task_id)
            else:
                self.recorded.add(outcome["id"])
        return True

    def first_success_after(self, instant: float, kind: str) -> float | None:
        done = [
            a.ended
            for a in self.answers
            if a.kind == kind and a.started >= instant and a.status < 300
        ]
        return min(done) if done else None

    def answered(self, *, after: float) -> set[str]:
        """The kinds of request sent after `after` that were answered, twice or more."""
        kinds = Counter(a.kind for a in self.answers if a.started >= after)
        return {kind for kind, n in kinds.items() if n >= 2}

    def leased(self, *, before: float = float("inf"), after: float = 0) -> int:
        """Tasks handed out by claims sent after `after` and answered before `before`."""
        return sum(
            len(a.response.json()["tasks"])
            for a in self.answers
            if a.kind == "claim" and a.status == 200 and a.started >= after and a.ended < before
        )


async def until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.05)


async def stored(conn: AsyncConnection, sql: str) -> set[str]:
    return {str(v) for v in (await conn.execute(text(sql))).scalars()}
