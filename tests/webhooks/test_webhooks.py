"""Webhooks over real HTTP: signed per Standard Webhooks (checked with the library's
verifier), at least once across a worker killed mid-delivery, and the retry schedule."""

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from standardwebhooks.webhooks import Webhook

from app import metrics
from app.clock import system_now
from app.webhooks import worker
from app.webhooks.repository import Leased
from tests.conftest import KeyMaker, bearer
from tests.factories import interaction_body
from tests.webhooks.conftest import LEASED, Hooks, delivered
from tests.webhooks.receiver import HANG, Receiver


async def test_delivered_webhooks_verify_with_the_standard_library(
    hooks: Hooks, receiver: Receiver
) -> None:
    hook = await hooks.subscribe(receiver.url)
    assert hook["secret"].startswith("whsec_")
    await hooks.account("W-1")
    contacts = await hooks.client.get("/v1/accounts/W-1/contacts", headers=hooks.auth)
    phone = next(c["id"] for c in contacts.json()["items"] if c["relationship"] == "self")
    call = interaction_body(
        phone,
        occurred_at=system_now().isoformat(),
        outcome="reached_debtor",
        reason_code="wilful_default",
    )
    recorded = await hooks.client.post(
        "/v1/accounts/W-1/interactions", json=call, headers=hooks.auth
    )
    assert recorded.status_code == 201, recorded.text
    closed = {
        "id": "close-1",
        "type": "account.closed",
        "occurred_at": system_now().isoformat(),
        "account_ref": "W-1",
        "data": {},
    }
    paid = {**closed, "id": "pay-1", "type": "payment.received"}
    paid["data"] = {"amount": 100, "payment_ref": "p-1"}
    response = await hooks.client.post(
        "/v1/events", json={"events": [paid, closed]}, headers=hooks.auth
    )
    assert response.json()["applied"] == 2, response.text

    assert await hooks.deliver() == 4
    verifier = Webhook(hook["secret"])
    payloads = [verifier.verify(r.body, r.headers) for r in receiver.received]
    assert sorted(p["type"] for p in payloads) == [
        "account.closed",
        "account.stage_changed",  # off the ladder
        "account.tier_changed",
        "payment.received",
    ]
    assert all(p["data"]["account_ref"] == "W-1" and p["timestamp"] for p in payloads)
    assert all(r.headers["webhook-signature"].startswith("v1,") for r in receiver.received)
    forged = dict(receiver.received[0].headers, **{"webhook-id": "msg_other"})
    with pytest.raises(Exception, match="signature"):
        verifier.verify(receiver.received[0].body, forged)

    log = await hooks.log(hook)
    assert {(d["status"], d["attempts"], d["last_status_code"]) for d in log} == {
        ("delivered", 1, 200)
    }
    assert {d["id"] for d in log} == {r.headers["webhook-id"] for r in receiver.received}
    assert await hooks.deliver() == 0  # nothing twice without a reason

    again = log[0]["id"]
    response = await hooks.client.post(
        f"/v1/webhooks/{hook['id']}/deliveries/{again}/redeliver", headers=hooks.auth
    )
    assert response.status_code == 202, response.text
    assert await hooks.deliver() == 1
    assert receiver.received[-1].headers["webhook-id"] == again
    verifier.verify(receiver.received[-1].body, receiver.received[-1].headers)

    listed = await hooks.client.get("/v1/webhooks", headers=hooks.auth)
    assert [h["id"] for h in listed.json()["items"]] == [hook["id"]]
    assert "secret" not in listed.json()["items"][0]


async def test_a_worker_killed_mid_delivery_is_followed_by_the_same_webhook_id(
    hooks: Hooks, receiver: Receiver
) -> None:
    hook = await hooks.subscribe(receiver.url, ["payment.received"])
    await hooks.account("W-2")
    await hooks.pay("W-2")
    receiver.script = [(HANG, {})]
    killed = asyncio.create_task(hooks.deliver())
    await asyncio.wait_for(receiver.arrived.wait(), 10)
    killed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await killed
    [delivery] = await hooks.log(hook)
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)

    assert await hooks.deliver() == 0  # still leased to the dead worker
    after_lease = system_now() + timedelta(seconds=hooks.settings.webhook_timeout_seconds + 31)
    assert await hooks.deliver(after_lease) == 1
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["id"]
    assert first.body == second.body
    [delivery] = await hooks.log(hook)
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)


async def test_retry_schedule_retry_after_and_410(
    hooks: Hooks, receiver: Receiver, connection: AsyncConnection
) -> None:
    hook = await hooks.subscribe(receiver.url, ["payment.received"])
    await hooks.account("W-3")
    await hooks.pay("W-3")
    receiver.script = [(500, {}), (503, {}), (429, {"Retry-After": "7200"}), (502, {}), (410, {})]
    retried, failed = delivered("retry"), delivered("failed")
    at = system_now()
    waits = []
    for _ in range(4):
        assert await hooks.deliver(at) == 1
        [delivery] = await hooks.log(hook)
        assert delivery["status"] == "pending"
        due = await connection.execute(text("SELECT next_attempt_at FROM webhook_deliveries"))
        next_at = due.scalar_one()
        waits.append(next_at - at)
        assert await hooks.deliver(next_at - timedelta(seconds=1)) == 0  # not before its time
        assert metrics.REGISTRY.get_sample_value("tactful_webhook_backlog") == 1
        at = next_at
    assert delivered("retry") == retried + 4
    assert waits == [
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(hours=2),  # Retry-After beat the schedule's 30 minutes
        timedelta(hours=2),
    ]
    assert await hooks.deliver(at) == 1
    [delivery] = await hooks.log(hook)
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "failed",
        5,
        410,
    )
    assert delivered("failed") == failed + 1
    assert metrics.REGISTRY.get_sample_value("tactful_webhook_backlog") == 0
    listed = (await hooks.client.get("/v1/webhooks", headers=hooks.auth)).json()["items"]
    assert listed[0]["status"] == "disabled" and "410" in listed[0]["disabled_reason"]
    await hooks.pay("W-3", 2)  # a disabled endpoint gets nothing more
    assert await hooks.deliver(at + timedelta(days=1)) == 0
    refused = await hooks.client.post(
        f"/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver", headers=hooks.auth
    )
    assert refused.status_code == 409
    assert len(receiver.received) == 5


def test_the_schedule_ends_in_failure() -> None:
    last = Leased(1, uuid.uuid4(), uuid.uuid4(), "{}", len(worker.RETRY_DELAYS), 8, "", "")
    now = system_now()
    assert worker.judge(last, httpx.Response(500), now).status == "failed"
    assert worker.judge(last, httpx.Response(204), now).status == "delivered"
    first = replace(last, retry_step=0)
    retry = worker.judge(first, httpx.Response(429, headers={"Retry-After": "999999"}), now)
    assert retry.next_attempt_at == now + worker.MAX_RETRY_AFTER


async def test_partner_webhooks_get_only_their_placements(
    hooks: Hooks, receiver: Receiver, make_key: KeyMaker
) -> None:
    partner = bearer(await make_key("acme", scopes=["admin"], partner="agency-x"))
    own = await hooks.client.post(
        "/v1/webhooks",
        json={"url": receiver.url, "events": ["payment.received"]},
        headers=partner,
    )
    assert own.status_code == 201, own.text
    tenant_wide = await hooks.subscribe(receiver.url, ["payment.received"])
    for ref, placed in (("X-1", "agency-x"), ("Y-1", "agency-y")):
        await hooks.account(ref, partner=placed)
        await hooks.pay(ref)
    assert await hooks.deliver() == 3
    by_hook: dict[str, set[str]] = {}
    for hook in (own.json(), tenant_wide):
        log = await hooks.log(hook)
        ids = {d["id"] for d in log}
        by_hook[hook["id"]] = {
            json.loads(r.body)["data"]["account_ref"]
            for r in receiver.received
            if r.headers["webhook-id"] in ids
        }
    assert by_hook == {own.json()["id"]: {"X-1"}, tenant_wide["id"]: {"X-1", "Y-1"}}
    listed = (await hooks.client.get("/v1/webhooks", headers=partner)).json()["items"]
    assert [h["id"] for h in listed] == [own.json()["id"]]
    hidden = await hooks.client.get(f"/v1/webhooks/{tenant_wide['id']}/deliveries", headers=partner)
    assert hidden.status_code == 404
    gone = await hooks.client.delete(f"/v1/webhooks/{tenant_wide['id']}", headers=partner)
    assert gone.status_code == 404
    deleted = await hooks.client.delete(f"/v1/webhooks/{own.json()['id']}", headers=partner)
    assert deleted.status_code == 204


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x", "events": ["promise.kept"]}, "url"),
        ({"url": "http://127.0.0.1:9/x", "events": ["promise.kept"]}, "url"),
        ({"url": "http://10.1.2.3/x", "events": ["promise.kept"]}, "url"),
        ({"url": "http://[::1]/x", "events": ["promise.kept"]}, "url"),
        ({"url": "https://93.184.215.14/ho\tks", "events": ["promise.kept"]}, "url"),
        ({"url": "https://93.184.215.14:70000/x", "events": ["promise.kept"]}, "url"),
        ({"url": "https://93.184.215.14/x", "events": ["account.opened"]}, "events"),
        ({"url": "https://93.184.215.14/x", "events": []}, "events"),
        ({"url": "https://93.184.215.14/x", "events": ["promise.kept", "promise.kept"]}, "events"),
        ({"url": "https://93.184.215.14/x", "events": ["promise.kept"], "secret": "s"}, "secret"),
    ],
)
async def test_bad_webhooks_are_422(
    client: httpx.AsyncClient, make_key: KeyMaker, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/webhooks", json=body, headers=bearer(await make_key()))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"][:2] == ["body", field]


async def test_a_public_address_is_accepted_without_the_setting(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    body = {"url": "https://93.184.215.14/hooks", "events": ["promise.kept"]}
    response = await client.post("/v1/webhooks", json=body, headers=bearer(await make_key()))
    assert response.status_code == 201, response.text


async def test_a_stopping_worker_finishes_its_round_or_releases_what_it_leased(
    hooks: Hooks, receiver: Receiver, connection: AsyncConnection
) -> None:
    hook = await hooks.subscribe(receiver.url, ["payment.received"])
    await hooks.account("W-9")
    await hooks.pay("W-9")
    await hooks.pay("W-9", 2)
    receiver.script = [(HANG, {})]

    # Asked to stop mid-round: the round under way finishes and is recorded.
    stop = asyncio.Event()
    graceful = asyncio.create_task(
        worker.run_forever(hooks.sessionmaker, hooks.settings, idle_seconds=0.05, stop=stop)
    )
    await asyncio.wait_for(receiver.arrived.wait(), 10)
    stop.set()
    receiver.release.set()
    await asyncio.wait_for(graceful, 10)
    assert {d["status"] for d in await hooks.log(hook)} == {"delivered"}
    assert await connection.scalar(LEASED) == 0

    # Cut short (the grace period over): what it leased is handed back, not left leased.
    await hooks.pay("W-9", 3)
    receiver.release.clear()
    receiver.arrived.clear()
    receiver.script = [(HANG, {})]
    cut = asyncio.create_task(worker.run_forever(hooks.sessionmaker, hooks.settings))
    await asyncio.wait_for(receiver.arrived.wait(), 10)
    assert await connection.scalar(LEASED) == 1
    cut.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cut
    assert await connection.scalar(LEASED) == 0
    assert await hooks.deliver() == 1  # another worker sends it at once
