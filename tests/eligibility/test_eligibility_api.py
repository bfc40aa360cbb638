"""GET /v1/accounts/{ref}/contact-eligibility on a sandbox tenant with a pinned clock."""

from typing import Any

import httpx
import pytest

from tests.conftest import KeyMaker, bearer
from tests.escalation.helpers import Sandbox
from tests.factories import account_body, interaction_body

NOW = "2031-12-03T02:00:00+00:00"  # 10:00 in Shanghai, the debtor's zone
URL = "/v1/accounts/L-1/contact-eligibility"


@pytest.fixture
async def box(client: httpx.AsyncClient, make_key: KeyMaker) -> Sandbox:
    box = await Sandbox.start(client, make_key, NOW)
    created = await client.put("/v1/accounts/L-1", json=account_body(), headers=box.auth)
    assert created.status_code == 201, created.text
    return box


async def eligibility(box: Sandbox, **params: Any) -> dict[str, Any]:
    response = await box.client.get(URL, params=params, headers=box.auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


def by_relationship(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["relationship"], c["kind"]): c for c in body["contacts"]}


async def record(box: Sandbox, contact_id: str, **fields: Any) -> None:
    body = interaction_body(contact_id, **fields)
    response = await box.client.post("/v1/accounts/L-1/interactions", json=body, headers=box.auth)
    assert response.status_code == 201, response.text


async def test_each_contact_with_its_verdict_and_reasons(box: Sandbox) -> None:
    body = await eligibility(box)
    assert body["account_ref"] == "L-1"
    assert body["at"] == "2031-12-03T02:00:00Z"
    assert body["jurisdiction"] == "cn_nifa"
    contacts = by_relationship(body)
    own = contacts["self", "phone"]
    assert own["allowed"] is True and own["blocked_by"] == []
    assert own["next_allowed_at"] == "2031-12-03T02:00:00Z"
    assert own["address"] == "+8613812345678"
    assert {"calling_window", "tier_cadence_daily_attempts"} <= {r["rule"] for r in own["rules"]}
    spouse = contacts["spouse", "phone"]
    assert spouse["allowed"] is False and spouse["next_allowed_at"] is None
    assert "third_party_not_allowed_yet" in spouse["blocked_by"]
    assert "network stage" in spouse["explanation"]
    assert contacts["self", "email"]["blocked_by"] == ["not_a_phone"]


async def test_a_conversation_blocks_the_rest_of_the_local_day(box: Sandbox) -> None:
    own = by_relationship(await eligibility(box))["self", "phone"]
    await record(box, own["contact_id"], occurred_at="2031-12-03T09:00:00+08:00", outcome="refused")
    after = by_relationship(await eligibility(box))["self", "phone"]
    assert after["allowed"] is False
    assert after["blocked_by"] == ["cadence_conversations_per_day"]
    assert after["next_allowed_at"] == "2031-12-04T00:00:00Z"  # 08:00 Shanghai
    tomorrow = await eligibility(box, at="2031-12-04T08:00:00+08:00")
    assert by_relationship(tomorrow)["self", "phone"]["allowed"] is True


async def test_the_window_and_the_lease(box: Sandbox) -> None:
    late = await eligibility(box, at="2031-12-03T21:55:00+08:00", lease_seconds=300)
    assert by_relationship(late)["self", "phone"]["allowed"] is True
    later = await eligibility(box, at="2031-12-03T21:56:00+08:00", lease_seconds=300)
    own = by_relationship(later)["self", "phone"]
    assert own["blocked_by"] == ["calling_window"]
    assert own["next_allowed_at"] == "2031-12-04T00:00:00Z"


async def test_a_cease_request_stops_every_contact(box: Sandbox) -> None:
    own = by_relationship(await eligibility(box))["self", "phone"]
    await record(
        box, own["contact_id"], occurred_at="2031-12-03T09:00:00+08:00", outcome="cease_request"
    )
    for contact in (await eligibility(box))["contacts"]:
        assert "cease_request" in contact["blocked_by"]
        assert contact["next_allowed_at"] is None


async def test_a_dispute_hold_is_a_hard_stop(box: Sandbox) -> None:
    hold = {"kind": "dispute", "note": "disputes the fee"}
    created = await box.client.post(
        "/v1/accounts/L-1/escalation/holds", json=hold, headers=box.auth
    )
    assert created.status_code == 201, created.text
    own = by_relationship(await eligibility(box))["self", "phone"]
    assert own["blocked_by"] == ["hard_stop:dispute"]


async def test_dialer_keys_read_it_and_partner_keys_see_masked_numbers(
    client: httpx.AsyncClient, make_key: KeyMaker, box: Sandbox
) -> None:
    dialer = bearer(await make_key("sbx", scopes=["dialer"]))
    assert (await client.get(URL, headers=dialer)).status_code == 200
    reports = bearer(await make_key("sbx", scopes=["reports:read"]))
    assert (await client.get(URL, headers=reports)).status_code == 403
    placed = await client.patch("/v1/accounts/L-1", json={"partner": "agency-x"}, headers=box.auth)
    assert placed.status_code == 200, placed.text
    partner = bearer(await make_key("sbx", scopes=["accounts:read"], partner="agency-x"))
    response = await client.get(URL, headers=partner)
    assert response.status_code == 200, response.text
    own = by_relationship(response.json())["self", "phone"]
    assert own["address"] == "+86 138****5678"
    assert "12345678" not in response.text


async def test_a_past_or_future_at_within_30_days(box: Sandbox) -> None:
    earlier = await eligibility(box, at="2031-11-20T10:00:00+08:00")
    assert earlier["at"] == "2031-11-20T02:00:00Z"
    response = await box.client.get(
        URL, params={"at": "2032-01-20T10:00:00+08:00"}, headers=box.auth
    )
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [["query", "at"]]


async def test_an_unknown_account_is_404(box: Sandbox) -> None:
    response = await box.client.get("/v1/accounts/NOPE/contact-eligibility", headers=box.auth)
    assert response.status_code == 404


async def test_unknown_zones_use_every_candidate_zone(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Sandbox.start(client, make_key, "2031-12-03T14:00:00+00:00")
    body = account_body(
        debtor={"name": "Sam Doe", "locale": "en-US", "customer_ref": "c-us"},
        jurisdiction="us_reg_f",
        currency="USD",
        contacts=[{"kind": "phone", "value": "+1 212 555 0100", "relationship": "self"}],
    )
    created = await client.put("/v1/accounts/US-1", json=body, headers=box.auth)
    assert created.status_code == 201, created.text
    url = "/v1/accounts/US-1/contact-eligibility"
    # 09:00 in New York is 06:00 in Los Angeles: blocked until 08:00 there (16:00 UTC).
    early = (await client.get(url, headers=box.auth)).json()["contacts"][0]
    assert early["blocked_by"] == ["calling_window"]
    assert early["next_allowed_at"] == "2031-12-03T16:00:00Z"
    assert "America/Los_Angeles" in early["explanation"]
    later = await client.get(url, params={"at": "2031-12-03T16:00:00Z"}, headers=box.auth)
    assert later.json()["contacts"][0]["allowed"] is True
