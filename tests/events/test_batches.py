"""Batches: per-event rejection, duplicates in and across batches, conflicts, bad shapes."""

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import KeyMaker, table_counts
from tests.events.helpers import NOW, Events, at, delinquent, event, payment, sandbox, statuses


async def stored_ids(connection: AsyncConnection) -> list[str]:
    return list((await connection.execute(text("SELECT id FROM events ORDER BY id"))).scalars())


async def test_one_bad_event_rejects_only_itself(
    events: Events, connection: AsyncConnection
) -> None:
    await events.post(delinquent("e0"), payment("p0", 100))
    no_offset = payment("t1", 100) | {"occurred_at": "2026-11-01T10:00:00"}
    future = payment("t2", 100) | {"occurred_at": "2026-12-01T12:06:00+00:00"}
    missing_ref = payment("t3", 100)
    del missing_ref["account_ref"]
    bad_contact = delinquent(
        "t4", ref="L-9", contacts=[{"kind": "phone", "value": "12", "relationship": "self"}]
    )
    cases: list[tuple[Any, int, list[Any]]] = [
        (event("t0", "payment.bounced", amount=1), 422, ["type"]),
        (no_offset, 422, ["occurred_at"]),
        (future, 422, ["occurred_at"]),
        (missing_ref, 422, ["account_ref"]),
        (bad_contact, 422, ["data", "contacts", 0, "value"]),
        (payment("t5", -100), 422, ["data", "amount"]),
        (payment("t6", 0), 422, ["data", "amount"]),
        (payment("t7", 100) | {"data": {"amount": 1, "payment_ref": "x", "currency": "USD"}},
         422, ["data", "currency"]),
        (payment("t8", 100, ref="NOPE"), 404, ["account_ref"]),
        (event("t9", "payment.reversed", payment_ref="never-paid"), 404, ["data", "payment_ref"]),
        (payment("t10", 100, pay_ref="p0"), 409, ["data", "payment_ref"]),
        (delinquent("t11", currency="USD"), 422, ["data", "currency"]),
        ("not an event", 422, []),
        (event("t12", "account.cured", unexpected=True), 422, ["data", "unexpected"]),
    ]  # fmt: skip
    good = [payment("ok1", 1000, minutes=2), event("ok2", "account.cured", minutes=3)]
    before = await stored_ids(connection)
    result = await events.post(good[0], *(c[0] for c in cases), good[1])
    assert (result["applied"], result["duplicates"], result["rejected"]) == (2, 0, len(cases))
    outcomes = result["results"]
    assert outcomes[0] == {"id": "ok1", "status": "applied"}
    assert outcomes[-1] == {"id": "ok2", "status": "applied"}
    for index, ((sent, status, loc), outcome) in enumerate(
        zip(cases, outcomes[1:-1], strict=True), start=1
    ):
        assert outcome["status"] == "rejected", (sent, outcome)
        assert outcome["id"] == (sent.get("id") if isinstance(sent, dict) else None)
        error = outcome["error"]
        assert error["status"] == status, (sent, error)
        assert {"type", "title", "detail"} <= error.keys()
        assert error["errors"][0]["loc"] == ["body", "events", index, *loc], (sent, error)
    assert await stored_ids(connection) == sorted([*before, "ok1", "ok2"])
    account = await events.account()
    assert (account["balance"], account["status"]) == (320000 - 100 - 1000, "cured")


async def test_an_event_may_rely_on_a_later_one_in_its_batch(events: Events) -> None:
    result = await events.post(
        event("r1", "payment.reversed", minutes=3, payment_ref="p1"),
        payment("p1", 1000, minutes=2),
        delinquent("e1"),
    )
    assert statuses(result) == ["applied"] * 3
    assert (await events.account())["balance"] == 320000


async def test_a_rejected_event_is_not_remembered_and_may_be_resent(events: Events) -> None:
    early = payment("p1", 1000, minutes=5)
    rejected = await events.post(early)
    assert rejected["results"][0]["error"]["status"] == 404
    await events.post(delinquent("e1"))
    assert statuses(await events.post(early)) == ["applied"]
    assert (await events.account())["balance"] == 319000


async def test_duplicates_within_a_batch_the_first_wins(events: Events) -> None:
    changed = payment("p1", 2000)
    bad = payment("x1", -1)
    result = await events.post(
        delinquent("e1"), payment("p1", 1000), payment("p1", 1000), changed, bad, bad
    )
    assert statuses(result) == [
        "applied",
        "applied",
        "duplicate",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert result["results"][3]["error"]["status"] == 409
    assert [r["error"]["errors"][0]["loc"][2] for r in result["results"][4:]] == [4, 5]
    assert (result["applied"], result["duplicates"], result["rejected"]) == (2, 1, 3)
    assert (await events.account())["balance"] == 319000


async def test_a_replayed_batch_is_all_duplicates_and_changes_nothing(
    events: Events, connection: AsyncConnection
) -> None:
    batch = [
        delinquent("e1"),
        payment("p1", 1000),
        event("d1", "dispute.opened", minutes=2, reason="no"),
        event("c1", "account.cured", minutes=3),
    ]
    first = await events.post(*batch)
    assert first["applied"] == 4
    counts, account = await table_counts(connection), await events.account()
    again = await events.post(*batch)
    assert statuses(again) == ["duplicate"] * 4
    assert (again["applied"], again["duplicates"], again["rejected"]) == (0, 4, 0)
    assert await table_counts(connection) == counts
    assert await events.account() == account


async def test_the_same_id_with_other_content_is_a_conflict(events: Events) -> None:
    await events.post(delinquent("e1"), payment("p1", 1000))
    result = await events.post(payment("p1", 5000))
    error = result["results"][0]["error"]
    assert (error["status"], error["errors"][0]["loc"]) == (409, ["body", "events", 0, "id"])
    assert (await events.account())["balance"] == 319000


async def test_more_than_1000_events_is_413_and_applies_nothing(
    events: Events, connection: AsyncConnection
) -> None:
    await events.post(delinquent("e1"))
    counts = await table_counts(connection)
    batch = [payment(f"p{n}", 1, minutes=1) for n in range(1001)]
    response = await events.send(batch)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413
    assert await table_counts(connection) == counts
    assert (await events.post(*batch[:1000]))["applied"] == 1000


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'{"events": {}}', id="events-object"),
        pytest.param(b'{"events": "x"}', id="events-string"),
        pytest.param(b"{}", id="no-events"),
        pytest.param(b'{"events": [], "extra": 1}', id="extra-field"),
    ],
)
async def test_a_wrong_shape_is_422_and_applies_nothing(
    events: Events, connection: AsyncConnection, body: bytes
) -> None:
    counts = await table_counts(connection)
    response = await events.client.post(
        "/v1/events", content=body, headers={**events.auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await table_counts(connection) == counts


async def test_an_empty_batch_is_fine(events: Events) -> None:
    assert await events.post() == {"applied": 0, "duplicates": 0, "rejected": 0, "results": []}


async def test_a_partner_key_touches_only_its_own_placements(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    admin = await sandbox(client, make_key, connection, "acme")
    await admin.post(delinquent("e1", partner="agency-y"), delinquent("e2", ref="L-2"))
    partner = Events(client, await make_key("acme", partner="agency-x"))
    result = await partner.post(
        payment("p1", 100),  # agency-y's account
        payment("p2", 100, ref="L-2"),  # placed with nobody
        delinquent("e3", ref="L-1", minutes=5),  # refresh agency-y's account
        delinquent("e4", ref="L-3", partner="agency-y"),  # place with another partner
        delinquent("e5", ref="L-4"),  # its own, new
        payment("p3", 100, ref="L-4", minutes=1),
    )
    assert statuses(result) == ["rejected"] * 4 + ["applied"] * 2
    assert [r["error"]["status"] for r in result["results"][:4]] == [404, 404, 404, 422]
    assert (await admin.account("L-4"))["partner"] == "agency-x"
    assert (await admin.account("L-1"))["balance"] == 320000


async def test_an_idempotency_key_replays_the_response(events: Events) -> None:
    batch = [delinquent("e1"), payment("p1", 100)]
    headers = {"Idempotency-Key": "batch-1"}
    first = await events.send(batch, **headers)
    again = await events.send(batch, **headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert statuses(first.json()) == ["applied", "applied"]


async def test_occurred_at_may_be_a_little_ahead_of_the_clock(events: Events) -> None:
    soon = payment("p1", 100) | {"occurred_at": "2026-12-01T12:04:59+00:00"}
    result = await events.post(delinquent("e1"), soon)
    assert statuses(result) == ["applied", "applied"]
    assert at(0) < NOW.isoformat()
