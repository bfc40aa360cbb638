"""What a receiver or a stored endpoint can do wrong fails only that delivery's attempt: odd
Retry-After values, URLs the sender refuses, a receiver that never answers; and a round that
fails anyway hands back what it leased."""

import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.clock import system_now
from app.webhooks import worker
from app.webhooks.repository import Leased
from tests.webhooks.conftest import LEASED, Hooks
from tests.webhooks.receiver import HANG, Receiver

DUE = text("SELECT next_attempt_at FROM webhook_deliveries WHERE status = 'pending'")


def test_retry_after_as_an_http_date_is_honoured() -> None:
    delivery = Leased(1, uuid.uuid4(), uuid.uuid4(), "{}", 0, 1, "", "")
    now = datetime(2026, 10, 21, 5, 28, tzinfo=UTC)

    def retry(value: str) -> datetime:
        response = httpx.Response(429, headers={"Retry-After": value})
        return worker.judge(delivery, response, now).next_attempt_at

    assert retry("Wed, 21 Oct 2026 07:28:00 GMT") == datetime(2026, 10, 21, 7, 28, tzinfo=UTC)
    assert retry("Wed, 21 Oct 2026 05:00:00 GMT") == now + worker.RETRY_DELAYS[0]  # past
    assert retry("Fri, 21 Oct 2033 07:28:00 GMT") == now + worker.MAX_RETRY_AFTER


async def test_odd_retry_after_values_fail_only_their_own_attempt(
    hooks: Hooks, receiver: Receiver, connection: AsyncConnection
) -> None:
    await hooks.subscribe(receiver.url, ["payment.received"])
    await hooks.account("R-1")
    at = system_now().replace(microsecond=0)
    odd = ["²", "١٢", "-5", "soon", "9" * 5000, "99999999999999999"]
    dated = format_datetime(at + timedelta(hours=3), usegmt=True)
    receiver.script = [(429, {"Retry-After": v}) for v in [*odd, dated]] + [(200, {})]
    for n in range(len(receiver.script)):
        await hooks.pay("R-1", n)

    assert await hooks.deliver(at) == 8
    assert await connection.scalar(LEASED) == 0
    waits = sorted(due - at for due in (await connection.execute(DUE)).scalars())
    day, schedule = worker.MAX_RETRY_AFTER, worker.RETRY_DELAYS[0]
    assert waits == [schedule] * 4 + [timedelta(hours=3), day, day]
    delivered = text("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'")
    assert await connection.scalar(delivered) == 1


async def test_a_url_the_sender_refuses_is_refused_at_subscription(
    hooks: Hooks, receiver: Receiver
) -> None:
    for url in (receiver.url.replace("/hooks", "/ho\tks"), receiver.url + "\n"):
        response = await hooks.client.post(
            "/v1/webhooks", json={"url": url, "events": ["promise.kept"]}, headers=hooks.auth
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "url"]


async def test_an_undeliverable_endpoint_does_not_sink_the_round(
    hooks: Hooks, receiver: Receiver, connection: AsyncConnection
) -> None:
    """Rows stored before today's validation: a URL httpx refuses, a secret that does not
    decode. Each fails its own attempt; the good endpoint's delivery goes out."""
    good = await hooks.subscribe(receiver.url, ["payment.received"])
    tabbed = await hooks.subscribe(receiver.url, ["payment.received"])
    unkeyed = await hooks.subscribe(receiver.url, ["payment.received"])
    change = text("UPDATE webhook_endpoints SET url = :url, secret = :secret WHERE id = :id")
    for hook, url, secret in (
        (tabbed, receiver.url.replace("/hooks", "/ho\tks"), tabbed["secret"]),
        (unkeyed, receiver.url, "whsec_!!!"),
    ):
        await connection.execute(change, {"url": url, "secret": secret, "id": hook["id"]})
    await hooks.account("U-1")
    await hooks.pay("U-1")

    assert await hooks.deliver() == 3
    assert await connection.scalar(LEASED) == 0
    assert [(d["status"], d["attempts"]) for d in await hooks.log(good)] == [("delivered", 1)]
    [bad_url] = await hooks.log(tabbed)
    [bad_key] = await hooks.log(unkeyed)
    for failed in (bad_url, bad_key):
        assert (failed["status"], failed["attempts"], failed["last_status_code"]) == (
            "pending",
            1,
            None,
        )
    assert "not a valid URL" in bad_url["last_error"]
    assert bad_key["last_error"]
    assert len(receiver.received) == 1


async def test_a_receiver_that_never_answers_is_timed_out_and_retried(
    hooks: Hooks, receiver: Receiver, connection: AsyncConnection
) -> None:
    hooks.settings = hooks.settings.model_copy(update={"webhook_timeout_seconds": 0.2})
    hook = await hooks.subscribe(receiver.url, ["payment.received"])
    await hooks.account("T-1")
    await hooks.pay("T-1")
    receiver.script = [(HANG, {})]
    at = system_now()

    assert await hooks.deliver(at) == 1
    [delivery] = await hooks.log(hook)
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == (
        "pending",
        1,
        "timed out",
    )
    assert await connection.scalar(LEASED) == 0
    assert await connection.scalar(DUE) == at + worker.RETRY_DELAYS[0]

    assert await hooks.deliver(at + worker.RETRY_DELAYS[0]) == 1
    [delivery] = await hooks.log(hook)
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["id"]


async def test_a_round_that_cannot_record_hands_back_its_leases(
    hooks: Hooks, receiver: Receiver, connection: AsyncConnection
) -> None:
    """The database refuses the outcomes (here a constraint added for the test): the round
    fails, but what it leased is released, so the next round sends it again at once."""
    hook = await hooks.subscribe(receiver.url, ["payment.received"])
    await hooks.account("F-1")
    await hooks.pay("F-1")
    await hooks.pay("F-1", 2)
    await connection.execute(
        text(
            "ALTER TABLE webhook_deliveries ADD CONSTRAINT no_deliveries "
            "CHECK (status <> 'delivered') NOT VALID"
        )
    )
    with pytest.raises(IntegrityError):
        await hooks.deliver()
    assert len(receiver.received) == 2
    assert await connection.scalar(LEASED) == 0

    await connection.execute(text("ALTER TABLE webhook_deliveries DROP CONSTRAINT no_deliveries"))
    assert await hooks.deliver() == 2
    assert {(d["status"], d["attempts"]) for d in await hooks.log(hook)} == {("delivered", 2)}
