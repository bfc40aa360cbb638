"""Inputs that used to reach PostgreSQL or the calendar and fail there: refused up front."""

import base64
import json

import httpx
import pytest

from tests.conftest import KeyMaker, bearer
from tests.escalation.helpers import Sandbox
from tests.factories import account_body


def cursor_of(*values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


async def test_nul_characters_are_refused(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    auth = bearer(await make_key())
    body = account_body(product="loan\u0000")
    response = await client.put("/v1/accounts/L-1", json=body, headers=auth)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body"]
    assert (await client.get("/v1/accounts/L%00", headers=auth)).status_code == 422


@pytest.mark.parametrize("cursor", [cursor_of(10**20), cursor_of(-1), cursor_of(True)])
async def test_out_of_range_cursors_are_422(
    client: httpx.AsyncClient, make_key: KeyMaker, cursor: str
) -> None:
    auth = bearer(await make_key())
    response = await client.get("/v1/accounts", params={"cursor": cursor}, headers=auth)
    assert response.status_code == 422


async def test_dates_beyond_the_plausible_range_are_422(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Sandbox.start(client, make_key, "2031-11-01T12:00:00+00:00")
    far = await client.put(
        "/v1/sandbox/clock", json={"now": "9999-12-30T00:00:00+00:00"}, headers=box.auth
    )
    assert far.status_code == 422
    assert far.json()["errors"][0]["loc"] == ["body", "now"]
    late = await client.put(
        "/v1/accounts/L-1", json=account_body(due_date="9999-12-31"), headers=box.auth
    )
    assert late.status_code == 422
    assert late.json()["errors"][0]["loc"] == ["body", "due_date"]


async def test_hold_notes_fit_their_column(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    box = await Sandbox.start(client, make_key, "2031-11-01T12:00:00+00:00")
    await box.open_account()
    response = await client.post(
        "/v1/accounts/L-1/escalation/holds",
        json={"kind": "manual", "note": "x" * 2001},
        headers=box.auth,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "note"]


async def test_an_idempotency_key_replays_only_for_the_key_that_made_it(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    lender = bearer(await make_key("acme"))
    partner = bearer(await make_key("acme", partner="agency-x"))
    body = account_body(partner="agency-x")
    first = await client.put(
        "/v1/accounts/L-1", json=body, headers={**lender, "Idempotency-Key": "k1"}
    )
    assert first.status_code == 201
    other = await client.put(
        "/v1/accounts/L-1", json=body, headers={**partner, "Idempotency-Key": "k1"}
    )
    assert other.status_code == 422
    assert "Idempotent-Replayed" not in other.headers


async def test_partner_keys_read_free_text_masked(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Sandbox.start(client, make_key, "2031-11-01T12:00:00+00:00")
    await box.open_account(partner="agency-x")
    advanced = await client.post(
        "/v1/accounts/L-1/escalation/advance",
        json={"reason": "Debtor Li Wei asked"},
        headers=box.auth,
    )
    await client.post(
        "/v1/accounts/L-1/escalation/holds",
        json={"kind": "hardship", "note": "Wife in hospital"},
        headers=box.auth,
    )
    partner = bearer(await make_key("sbx", partner="agency-x"))
    texts = [
        (await client.get(path, headers=partner)).text
        for path in ("/v1/accounts/L-1", "/v1/accounts/L-1/escalation", "/v1/accounts/L-1/audit")
    ]
    assert advanced.status_code == 200
    assert "Li Wei" in advanced.text  # the lender's own key reads it in clear
    for text in texts:
        assert "hospital" not in text and "Li Wei" not in text


async def test_the_stage_filter_lists_only_accounts_on_the_ladder(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: object
) -> None:
    from sqlalchemy import text

    auth = bearer(await make_key())
    await client.put("/v1/accounts/L-1", json=account_body(), headers=auth)
    await client.put("/v1/accounts/L-2", json=account_body(), headers=auth)
    await connection.execute(  # type: ignore[attr-defined]
        text("UPDATE accounts SET status = 'cured' WHERE ref = 'L-2'")
    )
    listed = await client.get("/v1/accounts", params={"stage": "reminder"}, headers=auth)
    assert [a["ref"] for a in listed.json()["items"]] == ["L-1"]


async def test_a_partner_key_cannot_rewrite_a_debtor_held_elsewhere(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    lender = bearer(await make_key("acme"))
    partner = bearer(await make_key("acme", partner="agency-x"))
    await client.put("/v1/accounts/L-1", json=account_body(), headers=lender)
    body = account_body()
    body["debtor"] = {**body["debtor"], "name": "Someone Else"}
    response = await client.put("/v1/accounts/P-1", json=body, headers=partner)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "debtor", "customer_ref"]
    account = (await client.get("/v1/accounts/L-1", headers=lender)).json()
    assert account["debtor"]["name"] == "Li Wei"

    own = account_body()
    own["debtor"] = {**own["debtor"], "customer_ref": "agency-only"}
    assert (await client.put("/v1/accounts/P-2", json=own, headers=partner)).status_code == 201
    patched = await client.patch(
        "/v1/accounts/P-2", json={"debtor": {"timezone": "Asia/Tokyo"}}, headers=partner
    )
    assert patched.status_code == 200
