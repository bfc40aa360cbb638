"""Every `reports:read` and `accounts:read` endpoint, taken from the route table, gives a
partner-bound key only the accounts placed with its partner.

A report read by the partner key on a tenant holding X, Y and N must equal the same report
read by an unbound key on a tenant holding only X (the partner's placement)."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.clock import system_now
from tests.conftest import KeyMaker, bearer
from tests.factories import interaction_body
from tests.test_access_matrix import PEOPLE, ROUTES, N, X, Y, assert_no_leak, place

READ_SCOPES = {"reports:read", "accounts:read"}
SCOPED = sorted(
    (method, path)
    for (method, path), route in ROUTES.items()
    if method == "GET" and READ_SCOPES & set((route.openapi_extra or {})["x-required-scopes"])
)


async def _flag(connection: AsyncConnection, tenant: str) -> None:
    """Claim-time blocks and a flagged violation for every account of the tenant."""
    params = {"tenant": tenant}
    await connection.execute(
        text(
            "INSERT INTO contact_blocks (tenant_id, blocked_at, account_id, contact_id, "
            "jurisdiction, rule) SELECT a.tenant_id, now(), a.id, c.id, a.jurisdiction, "
            "'calling_window' FROM accounts a JOIN tenants t ON t.id = a.tenant_id "
            "JOIN contacts c ON c.tenant_id = a.tenant_id AND c.account_id = a.id "
            "WHERE t.name = :tenant"
        ),
        params,
    )
    await connection.execute(
        text(
            "UPDATE interactions i SET violations = '{attempt_cap}', "
            "violations_jurisdiction = a.jurisdiction FROM tenants t, accounts a "
            "WHERE t.id = i.tenant_id AND t.name = :tenant "
            "AND a.tenant_id = i.tenant_id AND a.id = i.account_id"
        ),
        params,
    )


@pytest.fixture
async def keys(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> dict[str, dict[str, str]]:
    full, solo = bearer(await make_key("full")), bearer(await make_key("solo"))
    placed = [(full, ref, person) for ref, person in PEOPLE.items()] + [(solo, X, PEOPLE[X])]
    for auth, ref, person in placed:
        contact_id = await place(client, auth, ref, person)
        promise = interaction_body(
            contact_id,
            outcome="promise_to_pay",
            promise={"amount": 1000, "due_date": _in_five_days()},
            occurred_at=system_now().isoformat(),
        )
        response = await client.post(f"/v1/accounts/{ref}/interactions", json=promise, headers=auth)
        assert response.status_code == 201, response.text
    for tenant in ("full", "solo"):
        await _flag(connection, tenant)
    partner = bearer(await make_key("full", partner="agency-x"))
    return {"full": full, "solo": solo, "partner": partner}


def _in_five_days() -> str:
    return (system_now().date() + timedelta(days=5)).isoformat()


def _figures(body: Any) -> Any:
    return {k: v for k, v in body.items() if k != "as_of"} if isinstance(body, dict) else body


async def test_the_table_has_reports_and_accounts() -> None:
    paths = {path for _, path in SCOPED}
    assert {"/v1/accounts", "/v1/reports/portfolio", "/v1/reports/roll-rates"} <= paths


@pytest.mark.parametrize(("method", "path"), [pytest.param(*r, id=" ".join(r)) for r in SCOPED])
async def test_partner_keys_see_only_their_placements(
    client: httpx.AsyncClient, keys: dict[str, dict[str, str]], method: str, path: str
) -> None:
    if "{" in path:
        assert "{account_ref}" in path, f"add a partner-scope check for {path}"
        filled = path.replace("{account_ref}", Y).replace("{contact_id}", "x")
        hidden = await client.get(filled, headers=keys["partner"])
        assert hidden.status_code in (404, 422), (path, hidden.text)
        assert_no_leak(hidden, PEOPLE[Y].markers, path)
        return
    today = system_now().date().isoformat()  # the tenants' zone is UTC
    params = {"from": today, "to": today} if path.endswith("roll-rates") else {}
    seen = await client.get(path, params=params, headers=keys["partner"])
    assert seen.status_code == 200, (path, seen.text)
    others = [m for ref in (Y, N) for m in [ref, *PEOPLE[ref].markers]]
    assert_no_leak(seen, PEOPLE[X].personal + others, path)
    if path.startswith("/v1/reports/"):
        alone = await client.get(path, params=params, headers=keys["solo"])
        assert _figures(seen.json()) == _figures(alone.json()), path
        assert seen.json()["rows"], path
        everyone = await client.get(path, params=params, headers=keys["full"])
        assert _figures(everyone.json()) != _figures(seen.json()), path
        as_csv = await client.get(
            path, params=params, headers={**keys["partner"], "Accept": "text/csv"}
        )
        alone_csv = await client.get(
            path, params=params, headers={**keys["solo"], "Accept": "text/csv"}
        )
        assert as_csv.text == alone_csv.text, path
    elif path == "/v1/accounts":
        assert [a["ref"] for a in seen.json()["items"]] == [X]
    else:
        assert path == "/v1/policy", f"add a partner-scope check for {path}"
