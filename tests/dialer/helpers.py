"""A sandbox tenant with a dialer: accounts, the test clock, claims, outcomes, releases."""

from typing import Any

import httpx

from tests.conftest import KeyMaker, bearer
from tests.factories import account_body

# Tuesday 2026-12-01, 10:00 in Shanghai (02:00 UTC): inside every calling window there.
MORNING = "2026-12-01T02:00:00+00:00"


def shanghai_account(customer_ref: str = "cust-1", **overrides: Any) -> dict[str, Any]:
    """A cn_nifa debt with the debtor's own phone, a spouse's phone and an e-mail."""
    body = account_body(
        debtor={
            "name": "Li Wei",
            "timezone": "Asia/Shanghai",
            "locale": "zh-CN",
            "customer_ref": customer_ref,
        }
    )
    body.update(overrides)
    return body


class Dialer:
    def __init__(self, client: httpx.AsyncClient, auth: dict[str, str]) -> None:
        self.client, self.auth = client, auth

    @classmethod
    async def start(
        cls, client: httpx.AsyncClient, make_key: KeyMaker, at: str = MORNING, **key: Any
    ) -> "Dialer":
        box = cls(client, bearer(await make_key("sbx", sandbox=True, timezone="UTC", **key)))
        await box.set_clock(at)
        return box

    def with_key(self, key: str) -> "Dialer":
        return Dialer(self.client, bearer(key))

    async def set_clock(self, at: str) -> None:
        response = await self.client.put("/v1/sandbox/clock", json={"now": at}, headers=self.auth)
        assert response.status_code == 200, response.text

    async def open_account(self, ref: str = "L-1", **overrides: Any) -> dict[str, str]:
        body = shanghai_account(**overrides)
        created = await self.client.put(f"/v1/accounts/{ref}", json=body, headers=self.auth)
        assert created.status_code == 201, created.text
        contacts = await self.client.get(f"/v1/accounts/{ref}/contacts", headers=self.auth)
        return {f"{c['relationship']}:{c['kind']}": c["id"] for c in contacts.json()["items"]}

    async def claim_response(self, **body: Any) -> httpx.Response:
        body = {"limit": 10, "lease_seconds": 300, **body}
        return await self.client.post("/v1/dialer/claims", json=body, headers=self.auth)

    async def claim(self, **body: Any) -> list[dict[str, Any]]:
        response = await self.claim_response(**body)
        assert response.status_code == 200, response.text
        return list(response.json()["tasks"])

    async def outcome(self, task_id: str, at: str = MORNING, **body: Any) -> httpx.Response:
        body = {"occurred_at": at, "outcome": "no_answer", **body}
        return await self.client.post(
            f"/v1/dialer/tasks/{task_id}/outcome", json=body, headers=self.auth
        )

    async def release(self, task_id: str) -> httpx.Response:
        return await self.client.post(f"/v1/dialer/tasks/{task_id}/release", headers=self.auth)

    async def interactions(self, ref: str = "L-1") -> list[dict[str, Any]]:
        response = await self.client.get(f"/v1/accounts/{ref}/interactions", headers=self.auth)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])
