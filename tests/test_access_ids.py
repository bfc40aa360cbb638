"""Objects named by id, over the route table: every route with an id in its path (a contact, a
hold, a dialer task, a webhook, a delivery) is called with the real ids of one tenant's
objects — by another tenant's key and by a key bound to another partner (404, nothing
changed), then by the owner's key (reached: the ids were real). A new route with a new kind
of id fails here until OBJECTS says how to make one.
"""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from app.clock import system_now
from app.webhooks import repository as webhooks
from tests.conftest import KeyMaker, bearer, table_counts
from tests.dialer.helpers import MORNING, shanghai_account
from tests.test_access_matrix import BODIES, ROUTES, WRITE_METHODS, assert_problem

OWNER, PLACED, OTHER_PLACEMENT = "ID-Y", "agency-y", "agency-x"
OBJECTS = {"account_ref", "contact_id", "hold_id", "task_id", "webhook_id", "delivery_id"}


def id_routes() -> list[Any]:
    found = []
    for (method, path), route in sorted(ROUTES.items()):
        names = set(route.param_convertors)
        if names - {"account_ref"}:
            assert names <= OBJECTS, f"{method} {path}: make a {names - OBJECTS} in `objects`"
            found.append(pytest.param(method, path, id=f"{method} {path}"))
    return found


@dataclass
class Objects:
    owner: dict[str, str]  # the tenant's key (every scope)
    ids: dict[str, str]  # path parameter -> the id of the tenant's object, placed with PLACED


async def _json(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
async def objects(
    client: httpx.AsyncClient, make_key: KeyMaker, sessionmaker: async_sessionmaker[AsyncSession]
) -> Objects:
    """A sandbox tenant at a weekday morning in Shanghai: an account placed with PLACED, its
    hold, its leased dialer task, and a tenant-wide webhook's delivery about it."""
    owner = bearer(await make_key("owner", sandbox=True))
    await _json(await client.put("/v1/sandbox/clock", json={"now": MORNING}, headers=owner), 200)
    body = shanghai_account(partner=PLACED, customer_ref="id-cust")
    await _json(await client.put(f"/v1/accounts/{OWNER}", json=body, headers=owner), 201)
    contacts = await _json(await client.get(f"/v1/accounts/{OWNER}/contacts", headers=owner), 200)
    hold = await _json(
        await client.post(
            f"/v1/accounts/{OWNER}/escalation/holds",
            json={"kind": "manual", "note": "ids"},
            headers=owner,
        ),
        201,
    )
    claim = {"limit": 1, "lease_seconds": 300}
    (task,) = (await _json(await client.post("/v1/dialer/claims", json=claim, headers=owner), 200))[
        "tasks"
    ]
    hook = {"url": "https://93.184.215.14/hooks", "events": ["payment.received"]}
    webhook = await _json(await client.post("/v1/webhooks", json=hook, headers=owner), 201)
    payment = {
        "id": "ids-pay",
        "type": "payment.received",
        "occurred_at": MORNING,
        "account_ref": OWNER,
        "data": {"amount": 100, "payment_ref": "ids-pay"},
    }
    paid = await _json(
        await client.post("/v1/events", json={"events": [payment]}, headers=owner), 200
    )
    assert paid["applied"] == 1, paid
    async with sessionmaker() as session:
        assert await webhooks.dispatch(session, system_now(), 100) >= 1
        await session.commit()
    log = f"/v1/webhooks/{webhook['id']}/deliveries"
    (delivery,) = (await _json(await client.get(log, headers=owner), 200))["items"]
    return Objects(
        owner,
        {
            "account_ref": OWNER,
            "contact_id": contacts["items"][0]["id"],
            "hold_id": hold["id"],
            "task_id": task["task_id"],
            "webhook_id": webhook["id"],
            "delivery_id": delivery["id"],
        },
    )


async def call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], ids: dict[str, str]
) -> httpx.Response:
    body = BODIES.get((method, path), lambda _: {})(ids["contact_id"])
    payload = {"json": body} if method in WRITE_METHODS else {}
    return await client.request(method, path.format_map(ids), headers=headers, **payload)


@pytest.mark.parametrize(("method", "path"), id_routes())
async def test_ids_reach_only_their_tenants_and_partners_objects(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    make_key: KeyMaker,
    objects: Objects,
    method: str,
    path: str,
) -> None:
    route = f"{method} {path}"
    other_tenant = bearer(await make_key("intruder", sandbox=True))
    other_partner = bearer(await make_key("owner", partner=OTHER_PLACEMENT))
    # Each caller's own account, to reach the owner's nested ids through an account it may see.
    own_refs = {}
    for name, caller in (("tenant", other_tenant), ("partner", other_partner)):
        body = shanghai_account(partner=OTHER_PLACEMENT, customer_ref=f"own-{name}")
        ref = f"OWN-{name}"
        await _json(await client.put(f"/v1/accounts/{ref}", json=body, headers=caller), 201)
        own_refs[name] = ref
    before = await table_counts(connection)
    for name, caller in (("tenant", other_tenant), ("partner", other_partner)):
        attempts = [objects.ids]
        if "{account_ref}" in path:
            attempts.append(objects.ids | {"account_ref": own_refs[name]})
        for ids in attempts:
            response = await call(client, method, path, caller, ids)
            assert_problem(response, 404, f"{route} by another {name} via {ids['account_ref']}")
    assert await table_counts(connection) == before

    reached = await call(client, method, path, objects.owner, objects.ids)
    assert reached.status_code < 300, (route, reached.text)
