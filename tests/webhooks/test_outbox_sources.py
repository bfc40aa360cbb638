"""Every webhook event type is written to the outbox at its source (here: through the API)."""

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.clock import system_now
from tests.conftest import KeyMaker, bearer
from tests.escalation.helpers import Sandbox
from tests.events.helpers import payment
from tests.factories import account_body


def _event(n: int, kind: str, **data: object) -> dict[str, object]:
    return {
        "id": f"e-{n}",
        "type": kind,
        "occurred_at": system_now().isoformat(),
        "account_ref": "O-1",
        "data": data,
    }


async def test_leaving_and_rejoining_the_ladder_are_stage_changes(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    auth = bearer(await make_key())
    created = await client.put("/v1/accounts/O-1", json=account_body(), headers=auth)
    assert created.status_code == 201, created.text
    redelinquent = {k: v for k, v in account_body().items() if k != "contacts"}
    for n, kind, data in (
        (1, "account.cured", {}),
        (2, "account.delinquent", redelinquent),
        (3, "account.closed", {}),
    ):
        response = await client.post(
            "/v1/events", json={"events": [_event(n, kind, **data)]}, headers=auth
        )
        assert response.json()["applied"] == 1, response.text
    rows = await connection.execute(
        text(
            "SELECT payload->>'from', payload->>'to' FROM outbox "
            "WHERE type = 'account.stage_changed' ORDER BY id"
        )
    )
    assert [tuple(r) for r in rows] == [("reminder", None), (None, "reminder"), ("reminder", None)]
    closed = await connection.execute(
        text("SELECT count(*) FROM outbox WHERE type = 'account.closed'")
    )
    assert closed.scalar_one() == 1


async def test_kept_and_broken_promises_reach_the_outbox(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    box = await Sandbox.start(client, make_key, "2031-11-01T12:00:00+00:00")
    for ref in ("L-1", "L-2"):
        contacts = await box.open_account(ref, due_date="2031-11-01")
        await box.interact(
            contacts["self:phone"],
            "2031-11-01T12:00:00+00:00",
            ref,
            outcome="promise_to_pay",
            promise={"amount": 1000, "due_date": "2031-11-05"},
        )
    await box.day("2031-11-03")
    paid = payment("pay-1", 1000, "L-1") | {"occurred_at": "2031-11-03T09:00:00+00:00"}
    response = await client.post("/v1/events", json={"events": [paid]}, headers=box.auth)
    assert response.json()["applied"] == 1, response.text
    await box.day("2031-11-09")  # L-1 kept; L-2 unpaid past its due date and grace: broken

    promises = {}
    for ref in ("L-1", "L-2"):
        listed = await client.get(f"/v1/accounts/{ref}/promises", headers=box.auth)
        [promise] = listed.json()["items"]
        promises[ref] = (promise["status"], promise["id"])
    assert {ref: status for ref, (status, _) in promises.items()} == {
        "L-1": "kept",
        "L-2": "broken",
    }
    rows = await connection.execute(
        text(
            "SELECT type, payload->>'account_ref', payload->>'promise_id', payload->>'paid' "
            "FROM outbox WHERE type LIKE 'promise.%' ORDER BY id"
        )
    )
    assert [tuple(r) for r in rows] == [
        ("promise.kept", "L-1", promises["L-1"][1], "1000"),
        ("promise.broken", "L-2", promises["L-2"][1], "0"),
    ]
