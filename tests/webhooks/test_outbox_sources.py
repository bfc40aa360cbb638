"""Every webhook event type is written to the outbox at its source."""

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.clock import system_now
from tests.conftest import KeyMaker, bearer
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
