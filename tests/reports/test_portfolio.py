from collections import Counter
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import system_now
from app.reports.summary import refresh
from tests.conftest import KeyMaker, bearer
from tests.reports.seed import PORTFOLIO, TODAY, Portfolio, bucket


async def test_portfolio_matches_the_seeded_book(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    book = await Portfolio.seed(client, make_key)
    await book.events(
        {
            "id": "close-7",
            "type": "account.closed",
            "occurred_at": f"{TODAY.isoformat()}T08:01:00+00:00",
            "account_ref": "R-7",
            "data": {},
        }
    )
    counts: Counter[tuple[object, ...]] = Counter()
    balances: Counter[tuple[object, ...]] = Counter()
    for s in PORTFOLIO:
        if s.ref == "R-7":
            continue
        key = (s.tier, s.stage, bucket(s.due, TODAY), s.currency)
        counts[key] += 1
        balances[key] += s.balance

    report = await book.get("/v1/reports/portfolio")
    got = {(r["tier"], r["stage"], r["bucket"], r["currency"]): r for r in report["rows"]}
    assert {k: r["count"] for k, r in got.items()} == dict(counts)
    assert {k: r["balance"] for k, r in got.items()} == dict(balances)
    # 1-30 USD: two accounts share a tier and stage, a third differs by tier, a fourth by stage.
    assert {k: r["count"] for k, r in got.items() if k[2:] == ("1-30", "USD")} == {
        ("B", "reminder", "1-30", "USD"): 2,
        ("A", "reminder", "1-30", "USD"): 1,
        ("B", "early", "1-30", "USD"): 1,
    }
    assert {(k[0], k[1]) for k in got} >= {("A", "reminder"), ("B", "early"), ("C", "network")}
    assert {r["bucket"] for r in report["rows"]} == {"current", "1-30", "61-90", "91-180", "181+"}
    totals = {
        (t["status"], t["currency"]): (t["count"], t["balance"]) for t in report["totals_by_status"]
    }
    assert totals == {
        ("delinquent", "USD"): (6, 98_000),
        ("delinquent", "CNY"): (3, 130_000),
        ("closed", "USD"): (1, 70_000),
    }
    assert report["as_of"].startswith(TODAY.isoformat())


async def test_portfolio_for_a_partner_key_counts_only_its_placements(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    book = await Portfolio.seed(client, make_key)
    partner = bearer(await make_key("sbx", scopes=["reports:read"], partner="agency-x"))
    report = await book.get("/v1/reports/portfolio", headers=partner)
    placed = [s for s in PORTFOLIO if s.partner == "agency-x"]
    assert sum(r["count"] for r in report["rows"]) == len(placed)
    assert sum(r["balance"] for r in report["rows"]) == sum(s.balance for s in placed)
    assert {r["bucket"] for r in report["rows"]} == {bucket(s.due, TODAY) for s in placed}


async def test_csv_and_content_negotiation(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    book = await Portfolio.seed(client, make_key)
    as_json = await book.get("/v1/reports/portfolio")
    response = await client.get(
        "/v1/reports/portfolio", headers={**book.auth, "Accept": "text/csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.strip().split("\r\n")
    assert lines[0] == "tier,stage,bucket,currency,count,balance"
    assert len(lines) == 1 + len(as_json["rows"])
    first = as_json["rows"][0]
    assert lines[1] == ",".join(
        str(first[c]) for c in ("tier", "stage", "bucket", "currency", "count", "balance")
    )
    preferred = await client.get(
        "/v1/reports/portfolio",
        headers={**book.auth, "Accept": "application/json;q=0.5, text/csv"},
    )
    assert preferred.headers["content-type"].startswith("text/csv")
    for path in ("portfolio", "promises", "roll-rates", "contacts", "compliance"):
        refused = await client.get(
            f"/v1/reports/{path}", headers={**book.auth, "Accept": "application/xml"}
        )
        assert refused.status_code == 406, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        empty_csv = await client.get(
            f"/v1/reports/{path}",
            params={"from": "2020-01-01", "to": "2020-01-02"},
            headers={**book.auth, "Accept": "text/csv"},
        )
        assert empty_csv.status_code == 200, empty_csv.text
        assert empty_csv.text.split("\r\n")[0], path  # a header even without rows


async def test_the_maintained_summary_serves_the_same_figures(
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    book = await Portfolio.seed(client, make_key)
    partner = bearer(await make_key("sbx", scopes=["reports:read"], partner="agency-x"))
    live = await book.get("/v1/reports/portfolio")
    live_partner = await book.get("/v1/reports/portfolio", headers=partner)
    refreshed_at = system_now()
    async with sessionmaker() as session:
        tenant = await session.execute(text("SELECT id FROM tenants WHERE name = 'sbx'"))
        tenant_id = tenant.scalar_one()
        assert await refresh(session, tenant_id, TODAY, refreshed_at)
        assert not await refresh(session, tenant_id, TODAY, refreshed_at)  # fresh already
        await session.commit()

    served = await book.get("/v1/reports/portfolio")
    assert datetime.fromisoformat(served["as_of"]) == refreshed_at
    assert served["rows"] == live["rows"]
    assert served["totals_by_status"] == live["totals_by_status"]
    served_partner = await book.get("/v1/reports/portfolio", headers=partner)
    assert served_partner["rows"] == live_partner["rows"]

    async with sessionmaker() as session:
        await session.execute(
            text("UPDATE portfolio_summary_state SET refreshed_at = :at"),
            {"at": refreshed_at - timedelta(seconds=61)},
        )
        await session.commit()
    stale = await book.get("/v1/reports/portfolio")
    assert stale["as_of"].startswith(TODAY.isoformat())  # counted live on the tenant's clock


@pytest.mark.parametrize(
    ("accept", "served"),
    [
        (None, "application/json"),
        ("application/json", "application/json"),
        ("text/csv", "text/csv"),
        ("*/*", "application/json"),
        ("text/*", "text/csv"),
        ("text/csv, application/json", "text/csv"),  # a tie: the first listed
        ("text/html, */*;q=0.1", "application/json"),
        # A format's q comes from the most specific range naming it (RFC 9110 12.5.1).
        ("application/json;q=0, */*", "text/csv"),
        ("text/csv;q=0, */*", "application/json"),
        ("text/csv;q=0, text/*", None),
        ("application/json;q=0, application/*", None),
        ("text/csv;q=0", None),
        ("application/xml", None),
    ],
)
async def test_accept_negotiation(
    client: httpx.AsyncClient, make_key: KeyMaker, accept: str | None, served: str | None
) -> None:
    headers = bearer(await make_key("acme", scopes=["reports:read"]))
    if accept is not None:
        headers["Accept"] = accept
    response = await client.get("/v1/reports/portfolio", headers=headers)
    if served is None:
        assert response.status_code == 406, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    else:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(served)
