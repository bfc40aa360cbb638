"""Promises, contacts and compliance reports against a known book of activity."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import KeyMaker, bearer
from tests.factories import interaction_body
from tests.reports.seed import TODAY, Portfolio

LATER = TODAY + timedelta(days=10)
PERIOD = {"from": TODAY.isoformat(), "to": LATER.isoformat()}


async def _call(book: Portfolio, ref: str, who: str, hour: int, **fields: Any) -> str:
    body = interaction_body(
        book.contacts[f"{ref}:{who}"], occurred_at=f"{TODAY}T{hour:02d}:00:00+00:00", **fields
    )
    response = await book.client.post(
        f"/v1/accounts/{ref}/interactions", json=body, headers=book.auth
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _payment(ref: str, amount: int) -> dict[str, Any]:
    return {
        "id": f"pay-{ref}",
        "type": "payment.received",
        "occurred_at": f"{TODAY}T12:01:00+00:00",
        "account_ref": ref,
        "data": {"amount": amount, "payment_ref": f"pay-{ref}"},
    }


def _promise(amount: int, due: str) -> dict[str, Any]:
    return {"outcome": "promise_to_pay", "promise": {"amount": amount, "due_date": due}}


@pytest.fixture
async def book(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> Portfolio:
    book = await Portfolio.seed(client, make_key)
    calls = {
        "R-1": await _call(book, "R-1", "self", 10, **_promise(5000, "2026-12-18")),
        "R-2": await _call(book, "R-2", "self", 10, **_promise(8000, "2026-12-16")),
        "R-3": await _call(book, "R-3", "self", 10, **_promise(4000, "2026-12-17")),
        "R-4": await _call(book, "R-4", "self", 10, **_promise(3000, "2026-12-30")),
        "R-5": await _call(book, "R-5", "self", 9, outcome="no_answer"),
    }
    await _call(book, "R-5", "spouse", 9, outcome="reached_third_party")
    await _call(book, "R-5", "self", 11, outcome="reached_debtor", direction="inbound")
    await _call(book, "R-5", "self", 11, channel="sms", outcome="no_answer")
    await book.events(_payment("R-1", 5000), _payment("R-3", 1000))
    await book.at(f"{LATER}T12:00:00+00:00")
    await book.evaluate()

    await connection.execute(text("UPDATE interactions SET violations = '{}'"))
    for ref, rules in (("R-5", ["calling_window", "attempt_cap"]), ("R-3", ["calling_window"])):
        await connection.execute(
            text("UPDATE interactions SET violations = CAST(:rules AS text[]) WHERE id = :id"),
            {"rules": rules, "id": uuid.UUID(calls[ref])},
        )
    for ref, rule, at in (
        ("R-1", "calling_window", datetime(2026, 12, 15, 13, tzinfo=UTC)),
        ("R-1", "calling_window", datetime(2026, 12, 15, 14, tzinfo=UTC)),
        ("R-3", "attempt_cap", datetime(2026, 12, 15, 13, tzinfo=UTC)),
        ("R-3", "attempt_cap", datetime(2026, 1, 1, 13, tzinfo=UTC)),  # outside the period
    ):
        await connection.execute(
            text(
                "INSERT INTO contact_blocks (tenant_id, blocked_at, account_id, contact_id, "
                "jurisdiction, rule) SELECT a.tenant_id, CAST(:at AS timestamptz), a.id, c.id, "
                "'us_reg_f', :rule FROM accounts a JOIN contacts c ON c.tenant_id = a.tenant_id "
                "AND c.account_id = a.id AND c.relationship = 'self' WHERE a.ref = :ref"
            ),
            {"at": at, "rule": rule, "ref": ref},
        )
    return book


async def test_promises_report(book: Portfolio, make_key: KeyMaker) -> None:
    report = await book.get("/v1/reports/promises", **PERIOD)
    assert report["from"] == PERIOD["from"] and report["to"] == PERIOD["to"]
    rows = {r["currency"]: r for r in report["rows"]}
    assert rows["USD"] == {
        "currency": "USD",
        "made": 2,
        "kept": 1,
        "partially_kept": 0,
        "broken": 1,
        "pending": 0,
        "cancelled": 0,
        "kept_rate": 0.5,
        "amount_promised": 13000,
        "amount_paid": 5000,
        "amount_kept": 5000,
    }
    assert rows["CNY"] | {} == {
        "currency": "CNY",
        "made": 2,
        "kept": 0,
        "partially_kept": 1,
        "broken": 0,
        "pending": 1,
        "cancelled": 0,
        "kept_rate": 0.0,
        "amount_promised": 7000,
        "amount_paid": 1000,
        "amount_kept": 0,
    }
    partner = bearer(await make_key("sbx", scopes=["reports:read"], partner="agency-x"))
    scoped = await book.get("/v1/reports/promises", headers=partner, **PERIOD)
    assert [(r["currency"], r["made"], r["kept"]) for r in scoped["rows"]] == [("USD", 2, 1)]
    before = await book.get("/v1/reports/promises", **{"from": "2026-11-01", "to": "2026-12-14"})
    assert before["rows"] == []


async def test_contacts_report(book: Portfolio, make_key: KeyMaker) -> None:
    report = await book.get("/v1/reports/contacts", **PERIOD)
    totals = {
        key: sum(r[key] for r in report["rows"])
        for key in ("attempts", "right_party_contacts", "inbound_conversations")
    }
    assert totals == {"attempts": 6, "right_party_contacts": 4, "inbound_conversations": 1}
    for row in report["rows"]:
        expected = (
            round(row["right_party_contacts"] / row["attempts"], 4) if row["attempts"] else None
        )
        assert row["contact_rate"] == expected
    partner = bearer(await make_key("sbx", scopes=["reports:read"], partner="agency-x"))
    scoped = await book.get("/v1/reports/contacts", headers=partner, **PERIOD)
    assert sum(r["attempts"] for r in scoped["rows"]) == 4
    assert sum(r["right_party_contacts"] for r in scoped["rows"]) == 2
    assert sum(r["inbound_conversations"] for r in scoped["rows"]) == 1


async def test_compliance_report(book: Portfolio, make_key: KeyMaker) -> None:
    report = await book.get("/v1/reports/compliance", **PERIOD)
    got = {(r["kind"], r["jurisdiction"], r["rule"]): r["count"] for r in report["rows"]}
    assert got == {
        ("blocked_claim", "us_reg_f", "calling_window"): 2,
        ("blocked_claim", "us_reg_f", "attempt_cap"): 1,
        ("violation", "us_reg_f", "calling_window"): 2,
        ("violation", "us_reg_f", "attempt_cap"): 1,
    }
    assert (report["blocked_claims"], report["violations"]) == (3, 3)
    partner = bearer(await make_key("sbx", scopes=["reports:read"], partner="agency-x"))
    scoped = await book.get("/v1/reports/compliance", headers=partner, **PERIOD)
    got = {(r["kind"], r["rule"]): r["count"] for r in scoped["rows"]}
    assert got == {
        ("blocked_claim", "calling_window"): 2,
        ("violation", "calling_window"): 1,
        ("violation", "attempt_cap"): 1,
    }


@pytest.mark.parametrize("path", ["promises", "roll-rates", "contacts", "compliance"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-12-10", "to": "2026-12-01"}, "to"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"to": "0"}, "to"),  # not a Unix time: only YYYY-MM-DD
        ({"from": "2026-12-01T00:00:00Z"}, "from"),
    ],
)
async def test_bad_periods_are_422(
    client: httpx.AsyncClient, make_key: KeyMaker, path: str, params: dict[str, str], field: str
) -> None:
    key = bearer(await make_key("acme", scopes=["reports:read"]))
    response = await client.get(f"/v1/reports/{path}", params=params, headers=key)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["loc"] == ["query", field]


async def test_unreported_leases_count_as_attempts(
    book: Portfolio, connection: AsyncConnection
) -> None:
    """A lease is an attempt until it is released unused; a reported one is its interaction."""
    before = await book.get("/v1/reports/contacts", **PERIOD)
    reported = (await connection.execute(text("SELECT id FROM interactions LIMIT 1"))).scalar()
    for released, interaction in (
        (None, None),  # expired or still live, no outcome: an attempt
        (datetime(2026, 12, 15, 13, 5, tzinfo=UTC), None),  # given back unused: none
        (None, reported),  # reported: counted once, as its interaction
    ):
        await connection.execute(
            text(
                "INSERT INTO dialer_leases (tenant_id, id, task_row_id, account_id, debtor_id, "
                "contact_id, purpose, key_id, leased_at, expires_at, released_at, "
                "interaction_id) SELECT a.tenant_id, gen_random_uuid(), 0, a.id, a.debtor_id, "
                "c.id, 'collect', 0, CAST(:at AS timestamptz), "
                "CAST(:at AS timestamptz) + interval '5 minutes', :released, :interaction "
                "FROM accounts a JOIN contacts c ON c.tenant_id = a.tenant_id "
                "AND c.account_id = a.id AND c.relationship = 'self' WHERE a.ref = 'R-2'"
            ),
            {
                "at": datetime(2026, 12, 15, 13, tzinfo=UTC),
                "released": released,
                "interaction": interaction,
            },
        )
    after = await book.get("/v1/reports/contacts", **PERIOD)

    def total(report: Any, key: str) -> int:
        return sum(int(row[key]) for row in report["rows"])

    assert total(after, "attempts") == total(before, "attempts") + 1
    assert total(after, "right_party_contacts") == total(before, "right_party_contacts")
