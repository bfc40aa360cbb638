import httpx

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
