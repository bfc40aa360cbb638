"""Webhook test helpers: a tenant's API client with private URLs allowed, a live receiver, and
one-round delivery runs."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import metrics
from app.clock import system_now
from app.config import Settings
from app.webhooks import worker
from tests.conftest import KeyMaker, api_client, bearer
from tests.factories import account_body
from tests.webhooks.receiver import Receiver, receiving

ALL_EVENTS = [
    "account.tier_changed",
    "account.stage_changed",
    "promise.broken",
    "promise.kept",
    "payment.received",
    "account.closed",
]


@pytest.fixture
def local_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_private": True, "webhook_timeout_seconds": 5})


@pytest.fixture
async def local(
    local_settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(local_settings, sessionmaker) as http:
        yield http


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as receiver:
        yield receiver


class Hooks:
    def __init__(
        self,
        client: httpx.AsyncClient,
        auth: dict[str, str],
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
    ) -> None:
        self.client, self.auth = client, auth
        self.sessionmaker, self.settings = sessionmaker, settings

    async def subscribe(self, url: str, events: list[str] = ALL_EVENTS) -> dict[str, Any]:
        response = await self.client.post(
            "/v1/webhooks", json={"url": url, "events": events}, headers=self.auth
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def account(self, ref: str, partner: str | None = None) -> None:
        body = account_body(
            debtor={"name": "Li Wei", "locale": "zh-CN", "customer_ref": f"c-{ref}"},
            partner=partner,
        )
        response = await self.client.put(f"/v1/accounts/{ref}", json=body, headers=self.auth)
        assert response.status_code == 201, response.text

    async def pay(self, ref: str, n: int = 1) -> None:
        payment = {
            "id": f"pay-{ref}-{n}",
            "type": "payment.received",
            "occurred_at": system_now().isoformat(),
            "account_ref": ref,
            "data": {"amount": 100, "payment_ref": f"p-{ref}-{n}"},
        }
        response = await self.client.post(
            "/v1/events", json={"events": [payment]}, headers=self.auth
        )
        assert response.json()["applied"] == 1, response.text

    async def deliver(self, now: Any = None) -> int:
        async with worker.new_client(self.settings) as http:
            return await worker.deliver_once(self.sessionmaker, http, self.settings, now)

    async def log(self, hook: dict[str, Any]) -> list[dict[str, Any]]:
        response = await self.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=self.auth)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])


@pytest.fixture
async def hooks(
    local: httpx.AsyncClient,
    make_key: KeyMaker,
    sessionmaker: async_sessionmaker[AsyncSession],
    local_settings: Settings,
) -> Hooks:
    return Hooks(local, bearer(await make_key("acme")), sessionmaker, local_settings)


def delivered(result: str) -> float:
    return (
        metrics.REGISTRY.get_sample_value("tactful_webhook_deliveries_total", {"result": result})
        or 0.0
    )


LEASED = text("SELECT count(*) FROM webhook_deliveries WHERE leased_until IS NOT NULL")
