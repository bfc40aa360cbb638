"""A sandbox tenant driven through its test clock."""

from typing import Any

import httpx

from tests.conftest import KeyMaker, bearer
from tests.factories import account_body, interaction_body


class Sandbox:
    def __init__(self, client: httpx.AsyncClient, key: str) -> None:
        self.client, self.auth = client, bearer(key)

    @classmethod
    async def start(cls, client: httpx.AsyncClient, make_key: KeyMaker, at: str) -> "Sandbox":
        box = cls(client, await make_key("sbx", sandbox=True, timezone="UTC"))
        await box.set_clock(at)
        return box

    async def set_clock(self, at: str) -> None:
        response = await self.client.put("/v1/sandbox/clock", json={"now": at}, headers=self.auth)
        assert response.status_code == 200, response.text

    async def evaluate(self) -> dict[str, Any]:
        response = await self.client.post("/v1/sandbox/evaluate", headers=self.auth)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def day(self, date: str) -> dict[str, Any]:
        """Move to noon UTC on `date`, evaluate, and return the escalation state."""
        await self.set_clock(f"{date}T12:00:00+00:00")
        await self.evaluate()
        return await self.escalation()

    async def escalation(self, ref: str = "L-1") -> dict[str, Any]:
        response = await self.client.get(f"/v1/accounts/{ref}/escalation", headers=self.auth)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def open_account(self, ref: str = "L-1", **overrides: Any) -> dict[str, str]:
        body = account_body(**{"jurisdiction": "us_reg_f", **overrides})
        created = await self.client.put(f"/v1/accounts/{ref}", json=body, headers=self.auth)
        assert created.status_code == 201, created.text
        contacts = await self.client.get(f"/v1/accounts/{ref}/contacts", headers=self.auth)
        return {f"{c['relationship']}:{c['kind']}": c["id"] for c in contacts.json()["items"]}

    async def interact(self, contact_id: str, at: str, ref: str = "L-1", **fields: Any) -> Any:
        body = interaction_body(contact_id, occurred_at=at, **fields)
        response = await self.client.post(
            f"/v1/accounts/{ref}/interactions", json=body, headers=self.auth
        )
        assert response.status_code == 201, response.text
        return response.json()
