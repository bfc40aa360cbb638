"""The account's episode summary (the `episode_*` columns the evaluator reads instead of the
interactions) always equals `summarize` over its rows, after any mix of interactions,
payments, reversals, relationship changes, cures and returns to delinquency."""

import itertools
from typing import Any

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import KeyMaker
from tests.events.helpers import Events, at, delinquent, event, payment, sandbox
from tests.factories import interaction_body
from tests.summaries import stored_and_recomputed

_tenants = itertools.count()
OUTCOMES = ["no_answer", "busy", "voicemail", "reached_debtor", "reached_third_party", "refused"]

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("interaction"),
            st.sampled_from(["self", "spouse"]),
            st.sampled_from(["call", "call", "sms"]),
            st.sampled_from(["outbound", "outbound", "inbound"]),
            st.sampled_from(OUTCOMES),
            st.integers(0, 60),
        ),
        st.tuples(st.just("payment"), st.integers(100, 5000), st.integers(0, 60)),
        st.tuples(st.just("reverse"), st.integers(0, 5), st.integers(0, 60)),
        st.tuples(st.just("relationship"), st.sampled_from(["self", "spouse"])),
        st.tuples(st.just("status"), st.sampled_from(["cured", "delinquent"]), st.integers(0, 60)),
    ),
    max_size=12,
)


async def _apply(tenant: Events, contacts: dict[str, str], ops: list[Any]) -> None:
    paid: list[str] = []
    relationship = {"self": "self", "spouse": "spouse"}
    for n, op in enumerate(ops):
        kind = op[0]
        if kind == "interaction":
            _, who, channel, direction, outcome, minute = op
            body = interaction_body(
                contacts[who],
                channel=channel,
                direction=direction,
                outcome=outcome,
                occurred_at=at(minute),
            )
            response = await tenant.client.post(
                "/v1/accounts/L-1/interactions", json=body, headers=tenant.auth
            )
            assert response.status_code == 201, response.text
        elif kind == "payment":
            await tenant.post(payment(f"pay-{n}", op[1], minutes=op[2]))
            paid.append(f"pay-{n}")
        elif kind == "reverse" and paid:
            target = paid[op[1] % len(paid)]
            await tenant.post(
                event(f"rev-{n}", "payment.reversed", minutes=op[2] + 1, payment_ref=target)
            )
        elif kind == "relationship":
            # Swap who counts as the debtor: the phone of `op[1]` becomes a friend's or self.
            who = op[1]
            relationship[who] = "friend" if relationship[who] == "self" else "self"
            response = await tenant.client.patch(
                f"/v1/accounts/L-1/contacts/{contacts[who]}",
                json={"relationship": relationship[who]},
                headers=tenant.auth,
            )
            assert response.status_code == 200, response.text
        elif kind == "status":
            _, status, minute = op
            sent = (
                delinquent(f"st-{n}", minutes=minute + 0.5)
                if status == "delinquent"
                else event(f"st-{n}", "account.cured", minutes=minute + 0.5)
            )
            await tenant.post(sent)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
@example(
    ops=[("interaction", "self", "call", "outbound", "reached_debtor", 5), ("relationship", "self")]
)
@example(ops=[("payment", 500, 3), ("status", "cured", 4), ("status", "delinquent", 6)])
async def test_the_stored_summary_equals_the_summary_of_the_rows(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection, ops: list[Any]
) -> None:
    name = f"summary-{next(_tenants)}"
    tenant = await sandbox(client, make_key, connection, name)
    await tenant.post(delinquent("open"))
    listed = (await tenant.get("/v1/accounts/L-1/contacts"))["items"]
    contacts = {
        c["relationship"]: c["id"] for c in listed if c["kind"] == "phone"
    }  # self and spouse phones
    await _apply(tenant, contacts, ops)
    account_id, tenant_id = (
        await connection.execute(
            text(
                "SELECT a.id, a.tenant_id FROM accounts AS a JOIN tenants AS t "
                "ON t.id = a.tenant_id WHERE t.name = :name AND a.ref = 'L-1'"
            ),
            {"name": name},
        )
    ).one()
    stored, recomputed = await stored_and_recomputed(connection, tenant_id, account_id)
    assert stored == recomputed
