from datetime import datetime

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import KeyMaker, bearer
from tests.factories import account_body


async def test_put_creates_then_refreshes(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    auth = bearer(await make_key())
    created = await client.put("/v1/accounts/L-1", json=account_body(), headers=auth)
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["ref"] == "L-1"
    assert account["status"] == "delinquent"
    assert account["stage"] == "reminder"
    assert account["tier"] == "B"
    assert account["debtor"]["name"] == "Li Wei"
    assert account["stops"] == [] and account["holds"] == []

    refreshed = await client.put("/v1/accounts/L-1", json=account_body(balance=100), headers=auth)
    assert refreshed.status_code == 200
    assert refreshed.json()["balance"] == 100

    fetched = await client.get("/v1/accounts/L-1", headers=auth)
    assert fetched.status_code == 200
    assert fetched.json()["balance"] == 100


async def test_contacts_are_normalised_and_deduplicated_on_refresh(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    auth = bearer(await make_key())
    await client.put("/v1/accounts/L-1", json=account_body(), headers=auth)
    await client.put("/v1/accounts/L-1", json=account_body(), headers=auth)
    contacts = (await client.get("/v1/accounts/L-1/contacts", headers=auth)).json()["items"]
    values = sorted(c["value"] for c in contacts)
    assert values == ["+8613812345678", "+8613900001111", "li.wei@example.com"]


async def set_clock(connection: AsyncConnection, tenant: str, at: str) -> None:
    await connection.execute(
        text("UPDATE tenants SET clock_frozen_at = :at WHERE name = :name"),
        {"at": datetime.fromisoformat(at), "name": tenant},
    )


async def test_days_past_due_follows_the_tenant_clock_and_zone(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    key = await make_key("sbx", sandbox=True, timezone="Asia/Shanghai")
    await client.put("/v1/accounts/L-1", json=account_body(), headers=bearer(key))
    # 2026-11-10 23:30 UTC is already 2026-11-11 in Shanghai: ten days after 2026-11-01.
    await set_clock(connection, "sbx", "2026-11-10T23:30:00+00:00")
    account = (await client.get("/v1/accounts/L-1", headers=bearer(key))).json()
    assert account["days_past_due"] == 10
    await set_clock(connection, "sbx", "2026-10-01T00:00:00+00:00")
    account = (await client.get("/v1/accounts/L-1", headers=bearer(key))).json()
    assert account["days_past_due"] == 0


async def test_list_filters_and_pagination(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    key = await make_key("sbx", sandbox=True)
    await set_clock(connection, "sbx", "2026-12-01T12:00:00+00:00")
    for n, due in enumerate(["2026-11-30", "2026-11-20", "2026-10-01", "2026-08-01"]):
        body = account_body(due_date=due, partner="agency-a" if n % 2 else None)
        body["debtor"] = {**body["debtor"], "customer_ref": f"c-{n}"}
        await client.put(f"/v1/accounts/L-{n}", json=body, headers=bearer(key))
    await client.patch("/v1/accounts/L-2", json={"assignee": "bob"}, headers=bearer(key))

    async def refs(**params: object) -> list[str]:
        response = await client.get("/v1/accounts", params=params, headers=bearer(key))
        assert response.status_code == 200, response.text
        return [a["ref"] for a in response.json()["items"]]

    assert await refs() == ["L-0", "L-1", "L-2", "L-3"]
    assert await refs(dpd_min=12) == ["L-2", "L-3"]
    assert await refs(dpd_max=11) == ["L-0", "L-1"]
    assert await refs(dpd_min=2, dpd_max=61) == ["L-1", "L-2"]
    assert await refs(partner="agency-a") == ["L-1", "L-3"]
    assert await refs(assignee="bob") == ["L-2"]
    assert await refs(tier="B", stage="reminder", status="delinquent") == [
        "L-0",
        "L-1",
        "L-2",
        "L-3",
    ]
    assert await refs(tier="A") == []

    first = (await client.get("/v1/accounts", params={"limit": 3}, headers=bearer(key))).json()
    assert [a["ref"] for a in first["items"]] == ["L-0", "L-1", "L-2"]
    rest = await client.get(
        "/v1/accounts", params={"limit": 3, "cursor": first["next_cursor"]}, headers=bearer(key)
    )
    assert [a["ref"] for a in rest.json()["items"]] == ["L-3"]
    assert rest.json()["next_cursor"] is None


async def test_list_rejects_bad_limits_cursors_and_enums(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    auth = bearer(await make_key())
    for params, field in [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"tier": "D"}, "tier"),
        ({"dpd_min": -1}, "dpd_min"),
    ]:
        response = await client.get("/v1/accounts", params=params, headers=auth)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["loc"] == ["query", field]


async def test_patch_changes_only_what_is_sent(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    auth = bearer(await make_key())
    await client.put("/v1/accounts/L-1", json=account_body(partner="agency-a"), headers=auth)
    patched = await client.patch(
        "/v1/accounts/L-1",
        json={"assignee": "amy", "debtor": {"timezone": "Europe/London"}},
        headers=auth,
    )
    assert patched.status_code == 200
    account = patched.json()
    assert (account["assignee"], account["partner"]) == ("amy", "agency-a")
    assert account["debtor"]["timezone"] == "Europe/London"
    cleared = await client.patch("/v1/accounts/L-1", json={"partner": None}, headers=auth)
    assert cleared.json()["partner"] is None
    assert cleared.json()["assignee"] == "amy"
    bad = await client.patch("/v1/accounts/L-1", json={"jurisdiction": None}, headers=auth)
    assert bad.status_code == 422


async def test_a_cured_account_starts_a_new_episode_and_a_closed_one_is_final(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    auth = bearer(await make_key())
    await client.put("/v1/accounts/L-1", json=account_body(), headers=auth)
    await connection.execute(
        text("UPDATE accounts SET status = 'cured', stage = NULL WHERE ref = 'L-1'")
    )
    cured = (await client.get("/v1/accounts/L-1", headers=auth)).json()
    assert (cured["stage"], cured["days_past_due"]) == (None, 0)
    again = await client.put("/v1/accounts/L-1", json=account_body(), headers=auth)
    assert again.status_code == 200
    assert (again.json()["status"], again.json()["stage"]) == ("delinquent", "reminder")

    await connection.execute(text("UPDATE accounts SET status = 'closed' WHERE ref = 'L-1'"))
    closed = await client.put("/v1/accounts/L-1", json=account_body(), headers=auth)
    assert closed.status_code == 409


async def test_currency_cannot_change(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    auth = bearer(await make_key())
    await client.put("/v1/accounts/L-1", json=account_body(), headers=auth)
    response = await client.put("/v1/accounts/L-1", json=account_body(currency="USD"), headers=auth)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "currency"]


async def test_one_debtor_many_accounts(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    auth = bearer(await make_key())
    await client.put("/v1/accounts/L-1", json=account_body(), headers=auth)
    await client.put("/v1/accounts/L-2", json=account_body(), headers=auth)
    debtors = await connection.scalar(text("SELECT count(*) FROM debtors"))
    assert debtors == 1
