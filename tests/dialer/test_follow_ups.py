"""Work the practice asks for: one promise reminder the day before a promise falls due, a
payment confirmation after a payment."""

import httpx

from tests.conftest import KeyMaker
from tests.dialer.helpers import Dialer


async def test_a_pending_promise_gets_one_reminder_the_day_before_it_is_due(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Dialer.start(client, make_key)
    await box.open_account()
    (task,) = await box.claim()
    promised = await box.outcome(
        task["task_id"],
        at="2026-12-01T02:01:00+00:00",
        outcome="promise_to_pay",
        promise={"amount": 50_000, "due_date": "2026-12-05"},
    )
    assert promised.status_code == 201, promised.text
    assert "promise_created" in [e["type"] for e in promised.json()["effects"]]
    assert await box.claim() == []  # while the promise is pending, no collect calls

    await box.set_clock("2026-12-04T02:00:00+00:00")  # 10:00 on the day before, in Shanghai
    (reminder,) = await box.claim()
    assert reminder["purpose"] == "promise_reminder"
    done = await box.outcome(reminder["task_id"], at="2026-12-04T02:01:00+00:00")
    assert done.status_code == 201, done.text

    await box.set_clock("2026-12-04T06:00:00+00:00")
    assert await box.claim() == []  # once


async def test_a_payment_is_followed_by_a_confirmation_call(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Dialer.start(client, make_key)
    await box.open_account()
    payment = {
        "id": "pay-1",
        "type": "payment.received",
        "occurred_at": "2026-12-01T01:00:00+00:00",
        "account_ref": "L-1",
        "data": {"amount": 10_000, "payment_ref": "P-1"},
    }
    posted = await client.post("/v1/events", json={"events": [payment]}, headers=box.auth)
    assert posted.status_code == 200, posted.text
    assert posted.json()["applied"] == 1, posted.text
    (task,) = await box.claim()
    assert task["purpose"] == "payment_confirmation"
    done = await box.outcome(
        task["task_id"], at="2026-12-01T02:01:00+00:00", outcome="reached_debtor"
    )
    assert done.status_code == 201, done.text
    assert all(t["purpose"] != "payment_confirmation" for t in await box.claim())
