"""A known portfolio on a sandbox tenant, and the figures computed from it independently."""

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from tests.conftest import KeyMaker, bearer
from tests.factories import account_body

TODAY = date(2026, 12, 15)


@dataclass(frozen=True)
class Seeded:
    ref: str
    due: date
    currency: str
    balance: int
    partner: str | None


PORTFOLIO = [
    Seeded("R-0", date(2026, 12, 15), "USD", 1_000, None),
    Seeded("R-1", date(2026, 12, 10), "USD", 10_000, "agency-x"),
    Seeded("R-2", date(2026, 11, 20), "USD", 20_000, "agency-x"),
    Seeded("R-3", date(2026, 11, 15), "CNY", 30_000, "agency-y"),
    Seeded("R-4", date(2026, 10, 1), "CNY", 40_000, None),
    Seeded("R-5", date(2026, 9, 1), "USD", 50_000, "agency-x"),
    Seeded("R-6", date(2026, 5, 1), "CNY", 60_000, None),
    Seeded("R-7", date(2026, 12, 1), "USD", 70_000, "agency-y"),
]


def bucket(due: date, today: date) -> str:
    """Days past due to bucket, written out again here so the test does not reuse the SQL."""
    dpd = (today - due).days
    for upper, name in (
        (0, "current"),
        (30, "1-30"),
        (60, "31-60"),
        (90, "61-90"),
        (180, "91-180"),
    ):
        if dpd <= upper:
            return name
    return "181+"


class Portfolio:
    def __init__(self, client: httpx.AsyncClient, key: str) -> None:
        self.client, self.auth = client, bearer(key)
        self.contacts: dict[str, str] = {}

    @classmethod
    async def seed(cls, client: httpx.AsyncClient, make_key: KeyMaker) -> "Portfolio":
        book = cls(client, await make_key("sbx", sandbox=True, timezone="UTC"))
        await book.at(f"{TODAY.isoformat()}T12:00:00+00:00")
        for s in PORTFOLIO:
            body = account_body(
                debtor={"name": f"Debtor {s.ref}", "locale": "en-US", "customer_ref": s.ref},
                currency=s.currency,
                principal=s.balance,
                balance=s.balance,
                due_date=s.due.isoformat(),
                jurisdiction="us_reg_f",
                partner=s.partner,
                contacts=[
                    {"kind": "phone", "value": "+1 415 555 0100", "relationship": "self"},
                    {"kind": "phone", "value": "+1 415 555 0199", "relationship": "spouse"},
                ],
            )
            created = await client.put(f"/v1/accounts/{s.ref}", json=body, headers=book.auth)
            assert created.status_code == 201, created.text
            listed = await client.get(f"/v1/accounts/{s.ref}/contacts", headers=book.auth)
            for contact in listed.json()["items"]:
                book.contacts[f"{s.ref}:{contact['relationship']}"] = contact["id"]
        return book

    async def at(self, instant: str) -> None:
        response = await self.client.put(
            "/v1/sandbox/clock", json={"now": instant}, headers=self.auth
        )
        assert response.status_code == 200, response.text

    async def evaluate(self) -> None:
        response = await self.client.post("/v1/sandbox/evaluate", headers=self.auth)
        assert response.status_code == 200, response.text

    async def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
        response = await self.client.get(path, params=params, headers=headers or self.auth)
        assert response.status_code == 200, response.text
        return response.json()

    async def events(self, *events: dict[str, Any]) -> None:
        response = await self.client.post(
            "/v1/events", json={"events": list(events)}, headers=self.auth
        )
        assert response.status_code == 200, response.text
        assert response.json()["applied"] == len(events), response.text
