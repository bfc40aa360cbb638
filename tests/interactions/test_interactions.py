import uuid
from datetime import timedelta

import httpx

from app.clock import system_now
from tests.conftest import KeyMaker, bearer
from tests.factories import account_body, interaction_body


async def setup_account(client: httpx.AsyncClient, key: str) -> dict[str, str]:
    """Create L-1 and return its contacts by relationship/kind."""
    await client.put("/v1/accounts/L-1", json=account_body(), headers=bearer(key))
    contacts = (await client.get("/v1/accounts/L-1/contacts", headers=bearer(key))).json()
    return {f"{c['relationship']}:{c['kind']}": c["id"] for c in contacts["items"]}


async def test_record_and_list_interactions(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    key = await make_key()
    contacts = await setup_account(client, key)
    body = interaction_body(contacts["self:phone"], notes="said payday is Friday", agent="amy")
    created = await client.post("/v1/accounts/L-1/interactions", json=body, headers=bearer(key))
    assert created.status_code == 201, created.text
    interaction = created.json()
    assert interaction["outcome"] == "no_answer"
    assert interaction["effects"] == []
    assert interaction["notes"] == "said payday is Friday"

    listed = (await client.get("/v1/accounts/L-1/interactions", headers=bearer(key))).json()
    assert [i["id"] for i in listed["items"]] == [interaction["id"]]


async def test_list_is_newest_first_and_paginates(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key()
    contacts = await setup_account(client, key)
    for day in range(10, 15):
        body = interaction_body(contacts["self:phone"], occurred_at=f"2026-11-{day}T09:00:00Z")
        await client.post("/v1/accounts/L-1/interactions", json=body, headers=bearer(key))
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get("/v1/accounts/L-1/interactions", params=params, headers=bearer(key))
        ).json()
        seen += [i["occurred_at"][:10] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"2026-11-{day}" for day in range(14, 9, -1)]


async def test_wrong_number_marks_the_contact(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key()
    contacts = await setup_account(client, key)
    spouse = contacts["spouse:phone"]
    body = interaction_body(spouse, outcome="wrong_number")
    created = (
        await client.post("/v1/accounts/L-1/interactions", json=body, headers=bearer(key))
    ).json()
    assert {"type": "contact_status_changed", "contact_id": spouse, "status": "wrong_number"} in (
        created["effects"]
    )
    listed = (await client.get("/v1/accounts/L-1/contacts", headers=bearer(key))).json()
    assert {c["id"]: c["status"] for c in listed["items"]}[spouse] == "wrong_number"

    # A refresh from the lender never turns it back to active.
    await client.put("/v1/accounts/L-1", json=account_body(), headers=bearer(key))
    listed = (await client.get("/v1/accounts/L-1/contacts", headers=bearer(key))).json()
    assert {c["id"]: c["status"] for c in listed["items"]}[spouse] == "wrong_number"


async def test_cease_request_adds_the_cease_stop(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key()
    contacts = await setup_account(client, key)
    body = interaction_body(contacts["self:email"], channel="email", outcome="cease_request")
    created = await client.post("/v1/accounts/L-1/interactions", json=body, headers=bearer(key))
    assert {"type": "stop_added", "stop": "cease"} in created.json()["effects"]
    account = (await client.get("/v1/accounts/L-1", headers=bearer(key))).json()
    assert account["stops"] == ["cease"]


async def test_client_id_makes_resending_safe(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key()
    contacts = await setup_account(client, key)
    body = interaction_body(contacts["self:phone"], id=str(uuid.uuid4()))
    first = await client.post("/v1/accounts/L-1/interactions", json=body, headers=bearer(key))
    again = await client.post("/v1/accounts/L-1/interactions", json=body, headers=bearer(key))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    changed = {**body, "outcome": "busy"}
    conflict = await client.post("/v1/accounts/L-1/interactions", json=changed, headers=bearer(key))
    assert conflict.status_code == 409
    listed = (await client.get("/v1/accounts/L-1/interactions", headers=bearer(key))).json()
    assert len(listed["items"]) == 1


async def test_promise_rules(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    key = await make_key()
    contacts = await setup_account(client, key)
    phone = contacts["self:phone"]
    missing = interaction_body(phone, outcome="promise_to_pay")
    response = await client.post("/v1/accounts/L-1/interactions", json=missing, headers=bearer(key))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "promise"]

    due = (system_now().date() + timedelta(days=5)).isoformat()
    stray = interaction_body(phone, promise={"amount": 100, "due_date": due})
    response = await client.post("/v1/accounts/L-1/interactions", json=stray, headers=bearer(key))
    assert response.status_code == 422

    promise = interaction_body(
        phone, outcome="promise_to_pay", promise={"amount": 100000, "due_date": due}
    )
    response = await client.post("/v1/accounts/L-1/interactions", json=promise, headers=bearer(key))
    assert response.status_code == 201
    assert response.json()["promise"] == {"amount": 100000, "due_date": due}


async def test_future_interactions_are_refused(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key()
    contacts = await setup_account(client, key)
    body = interaction_body(contacts["self:phone"], occurred_at="2999-01-01T00:00:00Z")
    response = await client.post("/v1/accounts/L-1/interactions", json=body, headers=bearer(key))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "occurred_at"]


async def test_a_contact_of_another_account_is_unknown(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key()
    await setup_account(client, key)
    other = account_body(debtor={**account_body()["debtor"], "customer_ref": "cust-2"})
    await client.put("/v1/accounts/L-2", json=other, headers=bearer(key))
    foreign = (await client.get("/v1/accounts/L-2/contacts", headers=bearer(key))).json()
    body = interaction_body(foreign["items"][0]["id"])
    response = await client.post("/v1/accounts/L-1/interactions", json=body, headers=bearer(key))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "contact_id"]


async def test_every_change_is_audited(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    key = await make_key()
    contacts = await setup_account(client, key)
    await client.patch("/v1/accounts/L-1", json={"assignee": "team-2"}, headers=bearer(key))
    body = interaction_body(contacts["spouse:phone"], outcome="wrong_number")
    await client.post("/v1/accounts/L-1/interactions", json=body, headers=bearer(key))
    audit = (await client.get("/v1/accounts/L-1/audit", headers=bearer(key))).json()["items"]
    actions = [entry["action"] for entry in audit]
    assert actions == [
        "account.created",
        "account.patched",
        "contact.marked_wrong_number",
        "interaction.recorded",
    ]
    patched = audit[1]
    assert patched["before"]["assignee"] is None
    assert patched["after"]["assignee"] == "team-2"
    assert all(entry["actor"].startswith("key:") for entry in audit)
    assert all(entry["request_id"] for entry in audit)


async def test_every_audit_row_records_the_policy_version(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key()
    contacts = await setup_account(client, key)
    await client.post(
        "/v1/accounts/L-1/contacts",
        json={"kind": "email", "value": "w@example.com", "relationship": "spouse"},
        headers=bearer(key),
    )
    body = interaction_body(contacts["spouse:phone"], outcome="wrong_number")
    await client.post("/v1/accounts/L-1/interactions", json=body, headers=bearer(key))
    audit = (await client.get("/v1/accounts/L-1/audit", headers=bearer(key))).json()["items"]
    assert len(audit) >= 4
    assert {entry["policy_version"] for entry in audit} == {1}
