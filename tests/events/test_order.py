"""Order safety: the state follows (occurred_at, id) order, not arrival order.

The property test draws a stream for a few accounts, applies it in order in one tenant and
shuffled, duplicated and re-batched in another (each account's first `account.delinquent`
first, as a platform would send it), resending whatever was rejected for arriving before
what it refers to, and compares the episode (its number and start), balance, status, due
date, holds, stops and promises (see `_state` for a known gap). Each account gets several
status events (cures, closures, charge-offs and returns to delinquency), so late ones land
between others.
"""

import itertools
import random
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import KeyMaker
from tests.events.helpers import Events, delinquent, event, payment, sandbox, statuses
from tests.factories import interaction_body

UNTIL = ["2026-12-20T00:00:00+00:00", "2027-01-15T00:00:00+00:00"]
_tenants = itertools.count()


async def test_a_late_payment_does_not_undo_a_newer_adjustment(events: Events) -> None:
    adjust = {"balance": 80000, "due_date": "2026-11-20", "reason": "restructured"}
    await events.post(delinquent("e1"), event("b1", "balance.adjusted", minutes=30, **adjust))
    await events.post(payment("p-late", 5000, minutes=10))  # before the adjustment
    account = await events.account()
    assert (account["balance"], account["due_date"]) == (80000, "2026-11-20")
    await events.post(payment("p-new", 5000, minutes=40))
    assert (await events.account())["balance"] == 75000


async def test_ties_are_broken_by_event_id(events: Events) -> None:
    same = {"minutes": 5, "due_date": "2026-11-20", "reason": "tie"}
    await events.post(delinquent("e1"), event("b-2", "balance.adjusted", balance=2, **same))
    await events.post(event("b-1", "balance.adjusted", balance=1, **same))
    assert (await events.account())["balance"] == 2
    await events.post(event("b-3", "balance.adjusted", balance=3, **same))
    assert (await events.account())["balance"] == 3


@st.composite
def status_events(draw: st.DrawFn, ref: str, prefix: str, debtor: dict[str, Any]) -> list[Any]:
    """One to four status events: cures, closures, charge-offs and returns to delinquency."""
    found = []
    for n in range(draw(st.integers(1, 4))):
        event_id, minute = f"{prefix}-s{n}", draw(st.integers(1, 40))
        status = draw(st.sampled_from(["cured", "closed", "charged_off", "delinquent"]))
        if status == "delinquent":
            balance = draw(st.integers(1_000, 200_000))
            found.append(delinquent(event_id, ref, minute, balance=balance, debtor=debtor))
        else:
            found.append(event(event_id, f"account.{status}", ref, minute))
    return found


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(each account's opening account.delinquent, the rest of the stream)."""
    openings, rest = [], []
    for a in range(draw(st.integers(2, 3))):
        ref = f"H-{a}"
        body = {"customer_ref": f"cust-{a}", "name": "Li Wei", "locale": "zh-CN"}
        openings.append(delinquent(f"{ref}-open", ref, 0, balance=100_000, debtor=body))
        paid: list[tuple[str, int]] = []
        for n in range(draw(st.integers(0, 10))):
            event_id, minute = f"{ref}-{n:02d}", draw(st.integers(1, 40))
            kind = draw(
                st.sampled_from(
                    ["pay", "pay", "pay", "reverse", "adjust", "status", "dispute", "hardship"]
                )
            )
            if kind == "pay":
                amount = draw(st.integers(100, 4000))
                rest.append(payment(event_id, amount, ref, minute))
                paid.append((event_id, minute))
            elif kind == "reverse" and paid:
                pay_ref, paid_at = draw(st.sampled_from(paid))
                later = paid_at + draw(st.integers(1, 20))
                rest.append(event(event_id, "payment.reversed", ref, later, payment_ref=pay_ref))
            elif kind == "adjust":
                balance, day = draw(st.integers(0, 200_000)), draw(st.integers(1, 28))
                due = f"2026-10-{day:02d}"
                rest.append(
                    event(event_id, "balance.adjusted", ref, minute, balance=balance,
                          due_date=due, reason="restructured")
                )  # fmt: skip
            elif kind == "status":
                rest.extend(draw(status_events(ref, event_id, body)))
            elif kind == "dispute":
                kind = draw(st.sampled_from(["dispute.opened", "dispute.resolved"]))
                rest.append(event(event_id, kind, ref, minute, reason=f"reason {n}"))
            elif kind == "hardship":
                reason = draw(st.sampled_from(["disaster", "medical", "income_loss"]))
                until = draw(st.sampled_from(UNTIL))
                rest.append(
                    event(event_id, "hardship.declared", ref, minute, kind=reason, until=until)
                )
    if draw(st.booleans()):
        rest.append(event("H-0-stop", "debtor.bankruptcy", "H-0", draw(st.integers(1, 40))))
    return openings, rest


async def _open(tenant: Events, openings: list[dict[str, Any]]) -> None:
    """The openings, then a promise to pay on each account (payments count toward it)."""
    assert statuses(await tenant.post(*openings)) == ["applied"] * len(openings)
    for opening in openings:
        ref = opening["account_ref"]
        contacts = (await tenant.get(f"/v1/accounts/{ref}/contacts"))["items"]
        phone = next(c["id"] for c in contacts if c["relationship"] == "self")
        body = interaction_body(
            phone,
            occurred_at="2026-11-01T09:00:30+00:00",
            outcome="promise_to_pay",
            promise={"amount": 6000, "due_date": "2026-12-10"},
        )
        response = await tenant.client.post(
            f"/v1/accounts/{ref}/interactions", json=body, headers=tenant.auth
        )
        assert response.status_code == 201, response.text


async def _deliver(tenant: Events, batches: list[list[dict[str, Any]]]) -> None:
    """Send the batches; resend the rejected events (they arrived before what they need)."""
    for _ in range(10):
        rejected = []
        for batch in batches:
            result = await tenant.post(*batch)
            for sent, outcome in zip(batch, result["results"], strict=True):
                if outcome["status"] == "rejected":
                    assert outcome["error"]["status"] == 404, outcome
                    rejected.append(sent)
        if not rejected:
            return
        batches = [rejected]
    raise AssertionError("events still rejected after resending")


async def _state(
    tenant: Events, connection: AsyncConnection, name: str, refs: list[str]
) -> dict[str, Any]:
    state = {}
    for ref in refs:
        account = await tenant.account(ref)
        episode = (
            await connection.execute(
                text(
                    "SELECT a.episode, a.episode_started_at FROM accounts AS a "
                    "JOIN tenants AS t ON t.id = a.tenant_id WHERE t.name = :name AND a.ref = :ref"
                ),
                {"name": name, "ref": ref},
            )
        ).one()
        promises = (await tenant.get(f"/v1/accounts/{ref}/promises"))["items"]
        state[ref] = {
            "episode": tuple(episode),
            "balance": account["balance"],
            "status": account["status"],
            "due_date": account["due_date"],
            "holds": sorted(
                (h["kind"], h["note"] or "", h["until"] or "") for h in account["holds"]
            ),
            "stops": account["stops"],
            # Known gap: a promise of an earlier episode is no longer evaluated once the next
            # episode starts, so payments that arrive after that (in arrival order) do not reach
            # it; only an account still in its first episode (where the promises were made)
            # has its promises compared.
            "promises": [(p["amount"], p["due_date"], p["status"], p["paid"]) for p in promises]
            if episode.episode == 1
            else None,
        }
    return state


def _key(sent: dict[str, Any]) -> tuple[str, str]:
    return (sent["occurred_at"], sent["id"])


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stream=streams(), seed=st.integers(0, 2**32 - 1), duplicates=st.integers(0, 4))
async def test_out_of_order_delivery_ends_in_the_ordered_state(
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    connection: AsyncConnection,
    stream: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    seed: int,
    duplicates: int,
) -> None:
    openings, rest = stream
    number = next(_tenants)
    ordered = await sandbox(client, make_key, connection, f"ordered-{number}")
    shuffled = await sandbox(client, make_key, connection, f"shuffled-{number}")
    rng = random.Random(seed)

    await _open(ordered, openings)
    in_order = sorted(rest, key=_key)
    size = rng.randint(1, 4)
    await _deliver(ordered, [in_order[i : i + size] for i in range(0, len(in_order), size)])

    await _open(shuffled, openings)
    mixed = rest + [rng.choice(rest) for _ in range(duplicates if rest else 0)]
    rng.shuffle(mixed)
    batches, start = [], 0
    while start < len(mixed):
        end = start + rng.randint(1, 5)
        batches.append(mixed[start:end])
        start = end
    await _deliver(shuffled, batches)

    refs = [o["account_ref"] for o in openings]
    got = await _state(shuffled, connection, f"shuffled-{number}", refs)
    want = await _state(ordered, connection, f"ordered-{number}", refs)
    for ref in refs:
        for name, value in want[ref].items():
            assert (ref, name, got[ref][name]) == (ref, name, value)
