"""Hypothesis over the whole queue: for random histories, zones, packs and claim instants, every
contact a claim hands out is allowed by the pure contact rules at that instant, for the whole
lease — judged from what the API shows (the account, its contacts, its interactions), not from
the queue's own loader."""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.policy.contact_facts import AccountContactFacts, CallRecord, ContactFacts
from app.policy.contact_rules import decide_contact
from app.policy.document import DEFAULT_POLICY
from tests.conftest import KeyMaker
from tests.dialer.helpers import Dialer, shanghai_account

ZONES = ["Asia/Shanghai", "America/Chicago", "Europe/London", "America/New_York"]
OUTCOMES = ["no_answer", "busy", "voicemail", "reached_debtor", "refused", "callback_requested"]
START = datetime(2026, 12, 1, tzinfo=UTC)
_tenants = itertools.count()

calls = st.lists(
    st.tuples(
        st.integers(1, 9 * 24 * 60),  # minutes before the claim
        st.sampled_from(OUTCOMES),
        st.sampled_from(["self", "spouse"]),
    ),
    max_size=8,
)


def _history(interactions: list[dict[str, Any]], relationship: dict[str, str]) -> list[CallRecord]:
    return [
        CallRecord(
            i["contact_id"],
            relationship[i["contact_id"]],
            datetime.fromisoformat(i["occurred_at"]),
            i["outcome"],
            i["direction"],
        )
        for i in interactions
        if i["channel"] == "call"
    ]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    minutes=st.integers(0, 4 * 24 * 60),
    zone=st.sampled_from(ZONES),
    jurisdiction=st.sampled_from(["us_reg_f", "cn_nifa", "uk_fca"]),
    history=calls,
    lease_seconds=st.sampled_from([30, 300, 1800, 3600]),
)
async def test_every_handed_out_contact_is_allowed_for_its_whole_lease(
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    minutes: int,
    zone: str,
    jurisdiction: str,
    history: list[tuple[int, str, str]],
    lease_seconds: int,
) -> None:
    at = START + timedelta(days=10, minutes=minutes)
    tenant = f"prop-{next(_tenants)}"
    box = Dialer(client, {}).with_key(await make_key(tenant, sandbox=True, timezone="UTC"))
    await box.set_clock(at.isoformat())
    body = shanghai_account(jurisdiction=jurisdiction)
    body["debtor"]["timezone"] = zone
    contacts = await box.open_account(**body)
    for before, outcome, who in sorted(history, reverse=True):
        response = await client.post(
            "/v1/accounts/L-1/interactions",
            json={
                "contact_id": contacts[f"{who}:phone"],
                "channel": "call",
                "direction": "outbound",
                "occurred_at": (at - timedelta(minutes=before)).isoformat(),
                "outcome": outcome,
            },
            headers=box.auth,
        )
        assert response.status_code == 201, response.text

    tasks = await box.claim(lease_seconds=lease_seconds)

    account = (await client.get("/v1/accounts/L-1", headers=box.auth)).json()
    listed = (await client.get("/v1/accounts/L-1/contacts", headers=box.auth)).json()["items"]
    relationship = {c["id"]: c["relationship"] for c in listed}
    facts = AccountContactFacts(
        account_id=0,
        jurisdiction=account["jurisdiction"],
        status=account["status"],
        stage=account["stage"],
        tier=account["tier"],
        debtor_timezone=zone,
        stops=frozenset(account["stops"]),
        holds=frozenset(h["kind"] for h in account["holds"]),
        contacts=tuple(
            ContactFacts(c["id"], c["relationship"], c["kind"], c["status"], c.get("timezone"))
            for c in listed
        ),
    )
    past = _history(await box.interactions(), relationship)
    for task in tasks:
        contact = next(c for c in facts.contacts if c.id == task["contact_id"])
        decision = decide_contact(facts, contact, past, DEFAULT_POLICY, at, lease_seconds)
        assert decision.allowed, (task, decision.explanation)
