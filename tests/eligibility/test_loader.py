"""load_contact_facts: the facts of many accounts in a fixed number of queries."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from app.db.driver import driver_connection
from app.eligibility.repository import load_contact_facts
from app.models import Account, Tenant
from app.policy.contact_facts import CallRecord
from tests.conftest import KeyMaker, bearer
from tests.factories import account_body, interaction_body

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


@asynccontextmanager
async def counting(session: AsyncSession) -> AsyncIterator[list[str]]:
    """The statements sent on the session's connection, whether by SQLAlchemy or the driver."""
    statements: list[str] = []
    driver = await driver_connection(session)

    def count(record: Any) -> None:
        statements.append(record.query)

    driver.add_query_logger(count)
    try:
        yield statements
        await asyncio.sleep(0)  # the driver calls its query loggers soon after, not at once
    finally:
        driver.remove_query_logger(count)


async def make_accounts(client: httpx.AsyncClient, auth: dict[str, str], n: int) -> None:
    for i in range(n):
        body = account_body(
            debtor={
                "name": f"P {i}",
                "timezone": "Asia/Shanghai",
                "locale": "zh-CN",
                "customer_ref": f"c-{i}",
            }
        )
        response = await client.put(f"/v1/accounts/L-{i}", json=body, headers=auth)
        assert response.status_code == 201, response.text


async def ids_of(session: AsyncSession, tenant: str) -> dict[str, int]:
    rows = await session.execute(
        select(Account.ref, Account.id)
        .join(Tenant, Tenant.id == Account.tenant_id)
        .where(Tenant.name == tenant)
    )
    return {ref: account_id for ref, account_id in rows}


async def test_a_fixed_number_of_queries_however_many_accounts(
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    connection: AsyncConnection,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    auth = bearer(await make_key("acme"))
    await make_accounts(client, auth, 12)
    async with sessionmaker() as session:
        ids = await ids_of(session, "acme")
        tenant_id = (await session.scalars(select(Tenant.id).where(Tenant.name == "acme"))).one()
        async with counting(session) as two:
            few = await load_contact_facts(session, tenant_id, list(ids.values())[:2], NOW)
        async with counting(session) as twelve:
            many = await load_contact_facts(session, tenant_id, list(ids.values()), NOW)
        assert len(few) == 2 and len(many) == 12
        assert len(two) == len(twelve) == 3
        other = await load_contact_facts(session, tenant_id + 999, list(ids.values()), NOW)
        assert other == {}


async def test_facts_history_holds_stops_and_leases(
    client: httpx.AsyncClient, make_key: KeyMaker, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    auth = bearer(await make_key("acme", sandbox=True))
    # after every call below, so none is refused as in the future; the promise is not yet due
    clock = {"now": "2026-11-26T00:00:00+00:00"}
    assert (await client.put("/v1/sandbox/clock", json=clock, headers=auth)).status_code == 200
    await make_accounts(client, auth, 1)
    contacts = (await client.get("/v1/accounts/L-0/contacts", headers=auth)).json()["items"]
    own = next(c["id"] for c in contacts if c["relationship"] == "self" and c["kind"] == "phone")
    spouse = next(c["id"] for c in contacts if c["relationship"] == "spouse")
    calls = [
        (own, "2026-10-01T10:00:00+08:00", "call"),  # older than the look-back: left out
        (spouse, "2026-10-01T11:00:00+08:00", "call"),  # a third party: kept for ever
        (own, "2026-11-20T10:00:00+08:00", "call"),
        (own, "2026-11-21T10:00:00+08:00", "sms"),  # not a call
        (own, "2026-11-25T13:00:00+08:00", "call"),  # after `now`: left out
    ]
    for contact_id, at, channel in calls:
        body = interaction_body(contact_id, occurred_at=at, channel=channel)
        if at.startswith("2026-11-20"):
            body |= {
                "outcome": "promise_to_pay",
                "promise": {"amount": 100, "due_date": "2026-12-05"},
            }
        response = await client.post("/v1/accounts/L-0/interactions", json=body, headers=auth)
        assert response.status_code == 201, response.text
    hold = {"kind": "dispute", "note": "fee"}
    assert (
        await client.post("/v1/accounts/L-0/escalation/holds", json=hold, headers=auth)
    ).status_code == 201
    async with sessionmaker() as session:
        ids = await ids_of(session, "acme")
        tenant_id = (await session.scalars(select(Tenant.id).where(Tenant.name == "acme"))).one()
        lease = CallRecord.lease(own, "self", NOW - timedelta(minutes=1))
        loaded = (
            await load_contact_facts(
                session, tenant_id, [ids["L-0"]], NOW, leases={ids["L-0"]: [lease]}
            )
        )[ids["L-0"]]
    facts = loaded.facts
    assert facts.jurisdiction == "cn_nifa" and facts.debtor_timezone == "Asia/Shanghai"
    assert facts.locale == "zh-CN" and facts.account_ref == "L-0"
    assert facts.holds == frozenset({"dispute"}) and facts.stops == frozenset()
    assert facts.pending_promise_due == date(2026, 12, 5)
    assert {c.relationship for c in facts.contacts} == {"self", "spouse"}
    assert loaded.addresses[own].value == "+8613812345678"
    assert [
        (c.contact_id, c.occurred_at.date().isoformat(), c.outcome) for c in loaded.history
    ] == [
        (spouse, "2026-10-01", "no_answer"),
        (own, "2026-11-20", "promise_to_pay"),
        (own, "2026-11-25", None),
    ]
