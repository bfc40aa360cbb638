"""What each event type does to the account, applied through POST /v1/events."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.events.helpers import NOW, Events, delinquent, event, payment, statuses
from tests.factories import interaction_body


async def rows(connection: AsyncConnection, sql: str, **params: Any) -> list[Any]:
    return list((await connection.execute(text(sql), params)).all())


async def test_account_delinquent_opens_the_account_debtor_and_contacts(events: Events) -> None:
    result = await events.post(delinquent("e1"))
    assert result == {
        "applied": 1,
        "duplicates": 0,
        "rejected": 0,
        "results": [{"id": "e1", "status": "applied"}],
    }
    account = await events.account()
    assert (account["status"], account["stage"], account["tier"]) == ("delinquent", "reminder", "B")
    assert (account["balance"], account["principal"], account["due_date"]) == (
        320000,
        500000,
        "2026-11-01",
    )
    assert account["days_past_due"] == 30
    assert account["debtor"]["customer_ref"] == "cust-1"
    contacts = (await events.get("/v1/accounts/L-1/contacts"))["items"]
    assert sorted(c["value"] for c in contacts) == [
        "+8613812345678",
        "+8613900001111",
        "li.wei@example.com",
    ]


async def test_only_a_newer_account_delinquent_refreshes_the_account(events: Events) -> None:
    await events.post(delinquent("e1", minutes=10))
    extra = {"kind": "phone", "value": "+86 137 0000 1111", "relationship": "friend"}
    older = delinquent(
        "e0", minutes=0, balance=1, principal=2, due_date="2026-10-01", contacts=[extra]
    )
    assert statuses(await events.post(older)) == ["applied"]
    account = await events.account()
    assert (account["balance"], account["principal"], account["due_date"]) == (
        320000,
        500000,
        "2026-11-01",
    )
    contacts = (await events.get("/v1/accounts/L-1/contacts"))["items"]
    assert "+8613700001111" in {c["value"] for c in contacts}  # contacts always merge

    newer = delinquent(
        "e2", minutes=20, balance=100000, principal=600000, due_date="2026-11-15", product="card"
    )
    await events.post(newer)
    account = await events.account()
    assert (account["balance"], account["principal"], account["due_date"]) == (
        100000,
        600000,
        "2026-11-15",
    )


async def test_payments_lower_the_balance_confirm_and_announce(
    events: Events, connection: AsyncConnection
) -> None:
    await events.post(delinquent("e1"))
    result = await events.post(payment("p1", 1000, minutes=5), payment("p2", 2000, minutes=6))
    assert statuses(result) == ["applied", "applied"]
    assert (await events.account())["balance"] == 317000
    paid = await rows(
        connection, "SELECT payment_ref, amount, source_event_id FROM payments ORDER BY 1"
    )
    assert [tuple(r) for r in paid] == [("p1", 1000, "p1"), ("p2", 2000, "p2")]
    follow_ups = await rows(connection, "SELECT purpose, status FROM follow_ups")
    assert [tuple(r) for r in follow_ups] == [("payment_confirmation", "open")]
    outbox = await rows(
        connection,
        "SELECT payload FROM outbox WHERE type = 'payment.received' ORDER BY payload->>'event_id'",
    )
    assert [r.payload["amount"] for r in outbox] == [1000, 2000]
    assert outbox[0].payload["account_ref"] == "L-1" and outbox[0].payload["currency"] == "CNY"

    await events.post(payment("p3", 500, minutes=7))  # still one open confirmation
    assert len(await rows(connection, "SELECT 1 FROM follow_ups")) == 1


async def test_a_reversal_gives_the_payment_back(
    events: Events, connection: AsyncConnection
) -> None:
    await events.post(delinquent("e1"), payment("p1", 1000, minutes=5))
    result = await events.post(event("r1", "payment.reversed", minutes=9, payment_ref="p1"))
    assert statuses(result) == ["applied"]
    assert (await events.account())["balance"] == 320000
    [payment_row] = await rows(connection, "SELECT reversed_at FROM payments")
    assert payment_row.reversed_at is not None


async def test_balance_adjusted_applies_only_when_newest(events: Events) -> None:
    adjust = {"balance": 50000, "due_date": "2026-11-20", "reason": "fees waived"}
    await events.post(
        delinquent("e1"),
        payment("p1", 1000, minutes=5),
        event("b1", "balance.adjusted", minutes=10, **adjust),
        payment("p2", 500, minutes=15),
    )
    account = await events.account()
    assert (account["balance"], account["due_date"]) == (49500, "2026-11-20")
    # A late payment dated before the adjustment is kept but already counted in it.
    assert statuses(await events.post(payment("p0", 300, minutes=7))) == ["applied"]
    older = {"balance": 1, "due_date": "2026-01-01", "reason": "stale"}
    assert statuses(await events.post(event("b0", "balance.adjusted", minutes=8, **older))) == [
        "applied"
    ]
    account = await events.account()
    assert (account["balance"], account["due_date"]) == (49500, "2026-11-20")


async def test_status_events_take_the_account_off_and_back_on_the_ladder(
    events: Events, connection: AsyncConnection
) -> None:
    await events.post(delinquent("e1"))
    await events.post(event("c1", "account.cured", minutes=5))
    account = await events.account()
    assert (account["status"], account["stage"], account["days_past_due"]) == ("cured", None, 0)
    history = (await events.get("/v1/accounts/L-1/escalation"))["history"]
    assert (history[-1]["from_stage"], history[-1]["to_stage"]) == ("reminder", None)

    await events.post(delinquent("e2", minutes=10, due_date="2026-11-25"))
    account = await events.account()
    assert (account["status"], account["stage"], account["days_past_due"]) == (
        "delinquent",
        "reminder",
        6,
    )
    [row] = await rows(connection, "SELECT episode, episode_started_at FROM accounts")
    assert row.episode == 2 and row.episode_started_at.isoformat().startswith("2026-11-01T09:10")

    await events.post(event("x1", "account.closed", minutes=20))
    assert (await events.account())["status"] == "closed"
    closed = await rows(connection, "SELECT payload FROM outbox WHERE type = 'account.closed'")
    assert [r.payload["event_id"] for r in closed] == ["x1"]
    await events.post(event("o1", "account.charged_off", minutes=15))  # older: no effect
    assert (await events.account())["status"] == "closed"
    await events.post(event("o2", "account.charged_off", minutes=25))
    assert (await events.account())["status"] == "charged_off"


async def test_the_dispute_hold_follows_the_latest_dispute_event(events: Events) -> None:
    async def holds() -> list[tuple[str, str | None]]:
        return [(h["kind"], h["note"]) for h in (await events.account())["holds"]]

    await events.post(delinquent("e1"))
    await events.post(event("d1", "dispute.opened", minutes=5, reason="amount is wrong"))
    assert await holds() == [("dispute", "amount is wrong")]
    await events.post(event("d0", "dispute.resolved", minutes=3, reason="late and older"))
    assert await holds() == [("dispute", "amount is wrong")]
    await events.post(event("d2", "dispute.resolved", minutes=7, reason="corrected"))
    assert await holds() == []
    await events.post(event("d3", "dispute.opened", minutes=6, reason="older than resolved"))
    assert await holds() == []
    await events.post(event("d4", "dispute.opened", minutes=8, reason="again"))
    assert await holds() == [("dispute", "again")]


async def test_hardship_declared_sets_a_timed_hold(events: Events) -> None:
    until = "2026-12-31T00:00:00+00:00"
    await events.post(
        delinquent("e1"),
        event("h1", "hardship.declared", minutes=1, kind="medical", until=until),
        event("h2", "hardship.declared", minutes=2, kind="disaster", until=until),
        event("h3", "hardship.declared", minutes=3, kind="other", until="2026-11-30T00:00:00Z"),
    )
    holds = sorted((h["kind"], h["note"], h["until"]) for h in (await events.account())["holds"])
    assert holds == [
        ("disaster", "disaster", "2026-12-31T00:00:00Z"),
        ("hardship", "medical", "2026-12-31T00:00:00Z"),
    ]  # h3 had already ended


async def test_bankruptcy_and_death_stop_every_account_of_the_debtor(events: Events) -> None:
    await events.post(delinquent("e1"), delinquent("e2", ref="L-2"))
    await events.post(
        event("s1", "debtor.bankruptcy", minutes=5), event("s2", "debtor.deceased", minutes=6)
    )
    assert (await events.account("L-2"))["stops"] == ["bankruptcy", "deceased"]


async def test_contact_upserted_never_reactivates_a_contact(events: Events) -> None:
    await events.post(delinquent("e1"))
    contact = {"kind": "phone", "value": "+86 139 0000 2222", "relationship": "friend"}
    await events.post(event("c1", "contact.upserted", minutes=1, **contact))
    contacts = {c["value"]: c for c in (await events.get("/v1/accounts/L-1/contacts"))["items"]}
    added = contacts["+8613900002222"]
    assert (added["relationship"], added["status"]) == ("friend", "active")

    patched = await events.client.patch(
        f"/v1/accounts/L-1/contacts/{added['id']}",
        json={"status": "wrong_number"},
        headers=events.auth,
    )
    assert patched.status_code == 200
    await events.post(
        event("c2", "contact.upserted", minutes=2, **contact, status="active", label="old")
    )
    contacts = {c["value"]: c for c in (await events.get("/v1/accounts/L-1/contacts"))["items"]}
    assert (contacts["+8613900002222"]["status"], contacts["+8613900002222"]["label"]) == (
        "wrong_number",
        "old",
    )
    await events.post(
        event("c3", "contact.upserted", minutes=3, **contact, status="do_not_contact")
    )
    contacts = {c["value"]: c for c in (await events.get("/v1/accounts/L-1/contacts"))["items"]}
    assert contacts["+8613900002222"]["status"] == "do_not_contact"


async def test_every_applied_event_is_audited(events: Events) -> None:
    result = await events.post(
        delinquent("e1"), payment("p1", 100), event("bad", "payment.received", minutes=2)
    )
    assert statuses(result) == ["applied", "applied", "rejected"]
    audit = (await events.get("/v1/accounts/L-1/audit"))["items"]
    logged = [(a["entity"], a["entity_id"], a["action"]) for a in audit if a["entity"] == "event"]
    assert logged == [("event", "e1", "account.delinquent"), ("event", "p1", "payment.received")]
    assert all(a["actor"].startswith("key:") and a["policy_version"] == 1 for a in audit)
    assert audit[1]["after"]["data"] == {"amount": 100, "payment_ref": "p1"}


async def _promise(events: Events, amount: int, due: str) -> None:
    contacts = (await events.get("/v1/accounts/L-1/contacts"))["items"]
    phone = next(c["id"] for c in contacts if c["relationship"] == "self" and c["kind"] == "phone")
    body = interaction_body(
        phone,
        occurred_at="2026-11-01T09:00:30+00:00",
        outcome="promise_to_pay",
        promise={"amount": amount, "due_date": due},
    )
    response = await events.client.post(
        "/v1/accounts/L-1/interactions", json=body, headers=events.auth
    )
    assert response.status_code == 201, response.text


async def test_payments_keep_promises(events: Events) -> None:
    await events.post(delinquent("e1"))
    await _promise(events, 5000, "2026-12-05")
    await events.post(payment("p1", 3000, minutes=5))
    [promise] = (await events.get("/v1/accounts/L-1/promises"))["items"]
    assert (promise["status"], promise["paid"]) == ("pending", 3000)
    await events.post(payment("p2", 2000, minutes=6))
    [promise] = (await events.get("/v1/accounts/L-1/promises"))["items"]
    assert (promise["status"], promise["paid"]) == ("kept", 5000)
    await events.post(event("r2", "payment.reversed", minutes=9, payment_ref="p2"))
    [promise] = (await events.get("/v1/accounts/L-1/promises"))["items"]
    assert (promise["status"], promise["paid"]) == ("pending", 3000)


async def test_a_short_payment_on_the_due_date_partially_keeps_the_promise(
    events: Events, connection: AsyncConnection
) -> None:
    await events.post(delinquent("e1"))
    await _promise(events, 5000, NOW.date().isoformat())
    short = payment("p1", 1000) | {"occurred_at": "2026-12-01T10:00:00+00:00"}
    await events.post(short)
    [promise] = (await events.get("/v1/accounts/L-1/promises"))["items"]
    assert (promise["status"], promise["paid"]) == ("partially_kept", 1000)
    purposes = await rows(connection, "SELECT purpose FROM follow_ups ORDER BY 1")
    assert [r.purpose for r in purposes] == ["collect", "payment_confirmation"]


async def test_a_newer_account_delinquent_reopens_a_closed_account(events: Events) -> None:
    """Unlike PUT (409 on a closed account): the latest status event wins, so the result
    does not depend on whether the closure or the new delinquency arrived first."""
    await events.post(delinquent("e1"), event("x1", "account.closed", minutes=5))
    await events.post(delinquent("e2", minutes=10))
    account = await events.account()
    assert (account["status"], account["stage"]) == ("delinquent", "reminder")


async def test_an_account_from_before_the_events_counts_its_balance_as_of_its_update(
    events: Events, connection: AsyncConnection
) -> None:
    """Accounts loaded without the projection columns (the demo's COPY, older rows): the
    stored balance stands as of `updated_at`; only later payments lower it."""
    await events.post(delinquent("e1"))
    await connection.execute(
        text(
            "UPDATE accounts SET base_balance = NULL, balance_as_of_at = NULL, "
            "balance_as_of_event = NULL, status_as_of_at = NULL, status_as_of_event = NULL, "
            "balance = 250000, updated_at = :at"
        ),
        {"at": NOW.replace(month=11, day=10)},
    )
    await events.post(payment("p-old", 1000, minutes=60), payment("p-new", 2000, minutes=14400))
    assert (await events.account())["balance"] == 248000
    await events.post(event("c1", "account.cured", minutes=1))
    assert (await events.account())["status"] == "cured"
