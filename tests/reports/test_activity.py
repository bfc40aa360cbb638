"""Promises, contacts and compliance reports against a known book of activity."""

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import KeyMaker, bearer
from tests.factories import interaction_body
from tests.reports.seed import PORTFOLIO, TODAY, Portfolio

LATER = TODAY + timedelta(days=10)
PERIOD = {"from": TODAY.isoformat(), "to": LATER.isoformat()}


# Each logged call and what it counts for: (attempt, right-party contact, inbound conversation).
Figures = tuple[int, int, int]
ATTEMPT, CONVERSATION, INBOUND, NOTHING = (1, 0, 0), (1, 1, 0), (0, 0, 1), (0, 0, 0)
OPENINGS = [(s.ref, TODAY, CONVERSATION) for s in PORTFOLIO if s.opening is not None]


async def _call(book: Portfolio, ref: str, who: str, at: str, **fields: Any) -> str:
    body = interaction_body(book.contacts[f"{ref}:{who}"], occurred_at=at, **fields)
    response = await book.client.post(
        f"/v1/accounts/{ref}/interactions", json=body, headers=book.auth
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _today(hour: int) -> str:
    return f"{TODAY}T{hour:02d}:00:00+00:00"


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


class Book(Portfolio):
    calls: dict[str, str]
    logged: list[tuple[str, date, Figures]]


@pytest.fixture
async def book(client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection) -> Book:
    book = await Book.seed(client, make_key)
    await book.at(_today(12))
    book.calls = {
        "R-1": await _call(book, "R-1", "self", _today(10), **_promise(5000, "2026-12-18")),
        "R-2": await _call(book, "R-2", "self", _today(10), **_promise(8000, "2026-12-16")),
        "R-3": await _call(book, "R-3", "self", _today(10), **_promise(4000, "2026-12-17")),
        "R-4": await _call(book, "R-4", "self", _today(10), **_promise(3000, "2026-12-30")),
        "R-5": await _call(book, "R-5", "self", _today(9), outcome="no_answer"),
    }
    await _call(book, "R-5", "spouse", _today(9), outcome="reached_third_party")
    await _call(book, "R-5", "self", _today(11), outcome="reached_debtor", direction="inbound")
    await _call(book, "R-5", "self", _today(11), channel="sms", outcome="no_answer")
    book.logged = [
        *OPENINGS,
        *((ref, TODAY, CONVERSATION) for ref in ("R-1", "R-2", "R-3", "R-4")),
        ("R-5", TODAY, ATTEMPT),
        ("R-5", TODAY, ATTEMPT),  # to the spouse: an attempt, never a right-party contact
        ("R-5", TODAY, INBOUND),
        ("R-5", TODAY, NOTHING),  # an SMS
    ]
    await book.events(_payment("R-1", 5000), _payment("R-3", 1000))
    await book.snapshot(TODAY)
    await book.at(f"{LATER}T12:00:00+00:00")
    await book.evaluate()

    await connection.execute(text("UPDATE interactions SET violations = '{}'"))
    for ref, rules in (
        ("R-5", ["calling_window", "attempt_cap"]),
        ("R-3", ["calling_window"]),
        ("R-1", ["calling_window"]),
    ):
        await connection.execute(
            text(
                "UPDATE interactions i SET violations = CAST(:rules AS text[]), "
                "violations_jurisdiction = a.jurisdiction FROM accounts a "
                "WHERE a.tenant_id = i.tenant_id AND a.id = i.account_id AND i.id = :id"
            ),
            {"rules": rules, "id": uuid.UUID(book.calls[ref])},
        )
    for ref, rule, at in (
        ("R-1", "calling_window", datetime(2026, 12, 15, 13, tzinfo=UTC)),
        ("R-1", "calling_window", datetime(2026, 12, 15, 14, tzinfo=UTC)),
        ("R-3", "attempt_cap", datetime(2026, 12, 15, 13, tzinfo=UTC)),
        ("R-3", "attempt_cap", datetime(2026, 1, 1, 13, tzinfo=UTC)),  # outside the period
        ("R-6", "calling_window", datetime(2026, 12, 15, 13, tzinfo=UTC)),
        ("R-8", "calling_window", datetime(2026, 12, 15, 13, tzinfo=UTC)),
    ):
        await connection.execute(
            text(
                "INSERT INTO contact_blocks (tenant_id, blocked_at, account_id, contact_id, "
                "jurisdiction, rule) SELECT a.tenant_id, CAST(:at AS timestamptz), a.id, c.id, "
                "a.jurisdiction, :rule FROM accounts a JOIN contacts c "
                "ON c.tenant_id = a.tenant_id AND c.account_id = a.id "
                "AND c.relationship = 'self' WHERE a.ref = :ref"
            ),
            {"at": at, "rule": rule, "ref": ref},
        )
    return book


async def test_promises_report(book: Book, make_key: KeyMaker) -> None:
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


def _by_tier_and_stage(
    book: Book, refs: set[str] | None = None, day: date | None = None
) -> dict[Any, Figures]:
    """The logged calls (of `refs`, on `day`), each under its account's tier and stage as the
    call's day ended."""
    rows: dict[tuple[str, str], Figures] = {}
    for ref, on, figures in book.logged:
        if figures != NOTHING and (refs is None or ref in refs) and day in (None, on):
            key = book.states[on][ref]
            rows[key] = tuple(a + b for a, b in zip(rows.get(key, NOTHING), figures, strict=True))
    return rows


def _contact_rows(report: Any) -> dict[Any, Figures]:
    for row in report["rows"]:
        rate = row["right_party_contacts"] / row["attempts"] if row["attempts"] else None
        assert row["contact_rate"] == (None if rate is None else round(rate, 4)), row
    return {
        (r["tier"], r["stage"]): (
            r["attempts"],
            r["right_party_contacts"],
            r["inbound_conversations"],
        )
        for r in report["rows"]
    }


async def test_contacts_report_by_tier_and_stage(book: Book, make_key: KeyMaker) -> None:
    now = {s.ref: await book.state(s.ref) for s in PORTFOLIO}
    assert now != book.states[TODAY]  # the evaluation on LATER moved tiers and stages
    report = await book.get("/v1/reports/contacts", **PERIOD)
    expected = _by_tier_and_stage(book)
    assert _contact_rows(report) == expected
    assert len(expected) >= 3, expected
    assert sum(f[0] for f in expected.values()) == 9
    partner = bearer(await make_key("sbx", scopes=["reports:read"], partner="agency-x"))
    scoped = await book.get("/v1/reports/contacts", headers=partner, **PERIOD)
    placed = {s.ref for s in PORTFOLIO if s.partner == "agency-x"}
    assert _contact_rows(scoped) == _by_tier_and_stage(book, placed)


async def test_contacts_count_each_call_under_the_tier_and_stage_of_its_day(
    book: Book,
) -> None:
    """R-2 is called on TODAY and again on LATER, its tier and stage having changed between."""
    await _call(book, "R-2", "self", f"{LATER}T10:00:00+00:00", outcome="no_answer")
    book.logged.append(("R-2", LATER, ATTEMPT))
    await book.snapshot(LATER)
    assert book.states[TODAY]["R-2"] != book.states[LATER]["R-2"]

    report = await book.get("/v1/reports/contacts", **PERIOD)
    assert _contact_rows(report) == _by_tier_and_stage(book)
    first = await book.get("/v1/reports/contacts", **{"from": TODAY, "to": TODAY})
    assert _contact_rows(first) == _by_tier_and_stage(book, day=TODAY)
    last = await book.get("/v1/reports/contacts", **{"from": LATER, "to": LATER})
    assert _contact_rows(last) == {book.states[LATER]["R-2"]: ATTEMPT}


async def test_compliance_report_by_pack_and_rule(book: Book, make_key: KeyMaker) -> None:
    report = await book.get("/v1/reports/compliance", **PERIOD)
    got = {(r["kind"], r["jurisdiction"], r["rule"]): r["count"] for r in report["rows"]}
    assert got == {
        ("blocked_claim", "cn_nifa", "attempt_cap"): 1,
        ("blocked_claim", "cn_nifa", "calling_window"): 1,
        ("blocked_claim", "uk_fca", "calling_window"): 1,
        ("blocked_claim", "us_reg_f", "calling_window"): 2,
        ("violation", "cn_nifa", "calling_window"): 1,
        ("violation", "uk_fca", "attempt_cap"): 1,
        ("violation", "uk_fca", "calling_window"): 1,
        ("violation", "us_reg_f", "calling_window"): 1,
    }
    assert [(r["kind"], r["jurisdiction"], r["rule"]) for r in report["rows"]] == sorted(got)
    assert (report["blocked_claims"], report["violations"]) == (5, 4)
    partner = bearer(await make_key("sbx", scopes=["reports:read"], partner="agency-x"))
    scoped = await book.get("/v1/reports/compliance", headers=partner, **PERIOD)
    got = {(r["kind"], r["jurisdiction"], r["rule"]): r["count"] for r in scoped["rows"]}
    assert got == {
        ("blocked_claim", "uk_fca", "calling_window"): 1,
        ("blocked_claim", "us_reg_f", "calling_window"): 2,
        ("violation", "uk_fca", "attempt_cap"): 1,
        ("violation", "uk_fca", "calling_window"): 1,
        ("violation", "us_reg_f", "calling_window"): 1,
    }
    assert (scoped["blocked_claims"], scoped["violations"]) == (3, 3)


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


async def test_unreported_leases_count_as_attempts(book: Book, connection: AsyncConnection) -> None:
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


@pytest.mark.parametrize("path", ["portfolio", "promises", "roll-rates", "contacts", "compliance"])
async def test_each_report_as_csv_is_its_json_rows(book: Book, path: str) -> None:
    as_json = await book.get(f"/v1/reports/{path}", **PERIOD)
    response = await book.client.get(
        f"/v1/reports/{path}", params=PERIOD, headers={**book.auth, "Accept": "text/csv"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    header, *lines = list(csv.reader(io.StringIO(response.text)))
    assert as_json["rows"] and header == list(as_json["rows"][0])
    expected = [["" if v is None else str(v) for v in row.values()] for row in as_json["rows"]]
    assert lines == expected


async def test_a_violation_stays_under_the_pack_that_flagged_it(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    book = await Portfolio.seed(client, make_key)
    flagged = await book.client.post(
        "/v1/accounts/R-1/interactions",
        json=interaction_body(book.contacts["R-1:self"], occurred_at=_today(2)),
        headers=book.auth,
    )
    assert flagged.status_code == 201, flagged.text
    [rules] = [
        e["rules"] for e in flagged.json()["effects"] if e["type"] == "contact_rule_violation"
    ]
    day = {"from": TODAY, "to": TODAY}
    before = await book.get("/v1/reports/compliance", **day)
    violations = {
        (r["jurisdiction"], r["rule"]) for r in before["rows"] if r["kind"] == "violation"
    }
    assert {("us_reg_f", rule) for rule in rules} <= violations

    moved = await client.patch(
        "/v1/accounts/R-1", json={"jurisdiction": "uk_fca"}, headers=book.auth
    )
    assert moved.status_code == 200, moved.text
    assert await book.get("/v1/reports/compliance", **day) == before


@pytest.mark.parametrize("path", ["promises", "roll-rates", "contacts", "compliance"])
async def test_a_period_of_366_days_is_accepted(
    client: httpx.AsyncClient, make_key: KeyMaker, path: str
) -> None:
    key = bearer(await make_key("acme", scopes=["reports:read"]))
    period = {"from": "2025-01-01", "to": "2026-01-01"}  # both days inclusive: 366 days
    response = await client.get(f"/v1/reports/{path}", params=period, headers=key)
    assert response.status_code == 200, response.text
    assert (response.json()["from"], response.json()["to"]) == (period["from"], period["to"])
