"""A known portfolio on a sandbox tenant, and the figures computed from it independently."""

from dataclasses import dataclass
from datetime import date
from typing import Any, Self

import httpx

from tests.conftest import KeyMaker, bearer
from tests.factories import account_body, interaction_body

TODAY = date(2026, 12, 15)
SEEDED_AT = f"{TODAY}T08:00:00+00:00"


@dataclass(frozen=True)
class Seeded:
    ref: str
    due: date
    currency: str
    balance: int
    partner: str | None
    jurisdiction: str
    tier: str = "B"  # before any call: B, not_yet_contacted
    stage: str = "reminder"
    opening: dict[str, str] | None = None  # a first reminder call that sets the tier
    advances: int = 0  # stages moved up by hand


# First reminder calls that set the tier (policy.md, Tiering).
TIER_A = {"outcome": "reached_debtor", "reason_code": "short_payment"}
TIER_C = {"outcome": "refused"}

# Tiers, stages and packs differ across accounts, so each report's grouping shows. In 1-30
# USD, R-1 and R-2 share a tier and stage, R-8 differs from them by tier and R-9 by stage.
PORTFOLIO = [
    Seeded("R-0", date(2026, 12, 15), "USD", 1_000, None, "us_reg_f", "A", opening=TIER_A),
    Seeded("R-1", date(2026, 12, 10), "USD", 10_000, "agency-x", "us_reg_f"),
    Seeded("R-2", date(2026, 11, 20), "USD", 20_000, "agency-x", "us_reg_f"),
    Seeded("R-3", date(2026, 11, 15), "CNY", 30_000, "agency-y", "cn_nifa"),
    Seeded("R-4", date(2026, 10, 1), "CNY", 40_000, None, "cn_nifa", "B", "early", advances=1),
    Seeded("R-5", date(2026, 9, 1), "USD", 50_000, "agency-x", "uk_fca"),
    Seeded("R-6", date(2026, 5, 1), "CNY", 60_000, None, "cn_nifa", "C", "network", TIER_C, 2),
    Seeded("R-7", date(2026, 12, 1), "USD", 70_000, "agency-y", "uk_fca"),
    Seeded("R-8", date(2026, 12, 5), "USD", 8_000, "agency-x", "uk_fca", "A", opening=TIER_A),
    Seeded("R-9", date(2026, 11, 25), "USD", 9_000, None, "us_reg_f", "B", "early", advances=1),
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
        self.states: dict[date, dict[str, tuple[str, str]]] = {}

    @classmethod
    async def seed(cls, client: httpx.AsyncClient, make_key: KeyMaker) -> Self:
        book = cls(client, await make_key("sbx", sandbox=True, timezone="UTC"))
        await book.at(SEEDED_AT)
        for s in PORTFOLIO:
            body = account_body(
                debtor={"name": f"Debtor {s.ref}", "locale": "en-US", "customer_ref": s.ref},
                currency=s.currency,
                principal=s.balance,
                balance=s.balance,
                due_date=s.due.isoformat(),
                jurisdiction=s.jurisdiction,
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
            await book.shape(s)
        return book

    async def shape(self, s: Seeded) -> None:
        """The seeded account's opening call and manual advances, then check where it stands."""
        if s.opening is not None:
            body = interaction_body(
                self.contacts[f"{s.ref}:self"], occurred_at=SEEDED_AT, **s.opening
            )
            logged = await self.client.post(
                f"/v1/accounts/{s.ref}/interactions", json=body, headers=self.auth
            )
            assert logged.status_code == 201, logged.text
        for _ in range(s.advances):
            advanced = await self.client.post(
                f"/v1/accounts/{s.ref}/escalation/advance",
                json={"reason": "seed"},
                headers=self.auth,
            )
            assert advanced.status_code == 200, advanced.text
        reached = await self.state(s.ref)
        assert reached == (s.tier, s.stage), (s.ref, reached)

    async def state(self, ref: str) -> tuple[str, str]:
        account = await self.get(f"/v1/accounts/{ref}")
        return account["tier"], account["stage"]

    async def snapshot(self, day: date) -> None:
        """Every account's tier and stage as `day` ends (call after that day's last change)."""
        self.states[day] = {s.ref: await self.state(s.ref) for s in PORTFOLIO}

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
