import httpx

from tests.conftest import KeyMaker, bearer
from tests.factories import account_body


async def test_create_list_and_patch(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    auth = bearer(await make_key())
    await client.put("/v1/accounts/L-1", json=account_body(contacts=[]), headers=auth)
    body = {"kind": "phone", "value": "139 0000 2222", "relationship": "parent", "label": "mum"}
    created = await client.post("/v1/accounts/L-1/contacts", json=body, headers=auth)
    assert created.status_code == 201, created.text
    contact = created.json()
    # cn_nifa accounts read national numbers as Chinese ones.
    assert (contact["value"], contact["status"]) == ("+8613900002222", "active")

    duplicate = await client.post(
        "/v1/accounts/L-1/contacts", json={**body, "value": "+86 139-0000-2222"}, headers=auth
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["contact_id"] == contact["id"]

    patched = await client.patch(
        f"/v1/accounts/L-1/contacts/{contact['id']}",
        json={"status": "do_not_contact", "label": None},
        headers=auth,
    )
    assert patched.status_code == 200
    assert (patched.json()["status"], patched.json()["label"]) == ("do_not_contact", None)

    reactivate = await client.patch(
        f"/v1/accounts/L-1/contacts/{contact['id']}", json={"status": "active"}, headers=auth
    )
    assert reactivate.status_code == 409

    listed = (await client.get("/v1/accounts/L-1/contacts", headers=auth)).json()
    assert [c["id"] for c in listed["items"]] == [contact["id"]]


async def test_invalid_values_name_the_field(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    auth = bearer(await make_key())
    await client.put("/v1/accounts/L-1", json=account_body(contacts=[]), headers=auth)
    for kind, value in [("phone", "12"), ("phone", "call me"), ("email", "nobody")]:
        body = {"kind": kind, "value": value, "relationship": "self"}
        response = await client.post("/v1/accounts/L-1/contacts", json=body, headers=auth)
        assert response.status_code == 422, (kind, value)
        assert response.json()["errors"][0]["loc"] == ["body", "value"]


async def test_unknown_contact_is_404(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    auth = bearer(await make_key())
    await client.put("/v1/accounts/L-1", json=account_body(), headers=auth)
    response = await client.patch(
        "/v1/accounts/L-1/contacts/00000000-0000-4000-8000-000000000000",
        json={"label": "x"},
        headers=auth,
    )
    assert response.status_code == 404
