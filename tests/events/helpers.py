"""Event builders and a small client for POST /v1/events."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import KeyMaker, bearer
from tests.factories import account_body

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)  # events happen from here on
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # the sandbox tenants' frozen clock


def at(minutes: float = 0) -> str:
    """An instant `minutes` after T0."""
    return (T0 + timedelta(minutes=minutes)).isoformat()


def event(
    event_id: str, event_type: str, ref: str = "L-1", minutes: float = 0, **data: Any
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event_type,
        "occurred_at": at(minutes),
        "account_ref": ref,
        "data": data,
    }


def delinquent(
    event_id: str, ref: str = "L-1", minutes: float = 0, **overrides: Any
) -> dict[str, Any]:
    return event(event_id, "account.delinquent", ref, minutes, **account_body(**overrides))


def payment(
    event_id: str, amount: int, ref: str = "L-1", minutes: float = 1, pay_ref: str | None = None
) -> dict[str, Any]:
    return event(
        event_id, "payment.received", ref, minutes, amount=amount, payment_ref=pay_ref or event_id
    )


class Events:
    """One tenant's view: post batches, read accounts."""

    def __init__(self, client: httpx.AsyncClient, key: str) -> None:
        self.client, self.key, self.auth = client, key, bearer(key)

    async def send(self, events: list[Any], **headers: str) -> httpx.Response:
        return await self.client.post(
            "/v1/events", json={"events": events}, headers={**self.auth, **headers}
        )

    async def post(self, *events: dict[str, Any], **headers: str) -> dict[str, Any]:
        response = await self.send(list(events), **headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def get(self, path: str) -> Any:
        response = await self.client.get(path, headers=self.auth)
        assert response.status_code == 200, response.text
        return response.json()

    async def account(self, ref: str = "L-1") -> dict[str, Any]:
        return dict(await self.get(f"/v1/accounts/{ref}"))


async def sandbox(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection, name: str
) -> Events:
    """A sandbox tenant whose clock is frozen at NOW."""
    key = await make_key(name, sandbox=True, timezone="UTC", jurisdiction="cn_nifa")
    await connection.execute(
        text("UPDATE tenants SET clock_frozen_at = :at WHERE name = :name"),
        {"at": NOW, "name": name},
    )
    return Events(client, key)


def statuses(result: dict[str, Any]) -> list[str]:
    return [r["status"] for r in result["results"]]
