"""Metrics, security headers, CORS, key last-used time and what logs carry."""

import asyncio
import json
import logging
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app import metrics
from app.config import Settings
from app.db.session import create_engine
from app.evaluation.runner import run_forever
from app.logs import JsonFormatter
from app.main import create_app
from tests.conftest import KeyMaker, bearer
from tests.factories import account_body


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_count_and_time_requests_by_route_template_and_status(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key()
    labels = {"method": "GET", "route": "/v1/accounts/{account_ref}", "status": "404"}
    timed = "tactful_http_request_duration_seconds_count"
    before = sample("tactful_http_requests_total", **labels), sample(timed, **labels)
    await client.get("/v1/accounts/NOPE-1", headers=bearer(key))
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = sample("tactful_http_requests_total", **labels), sample(timed, **labels)
    assert after == (before[0] + 1, before[1] + 1)
    assert 'route="/v1/accounts/{account_ref}"' in response.text
    assert "NOPE-1" not in response.text
    assert "tactful_http_request_duration_seconds_bucket" in response.text
    assert "tactful_evaluator_lag_seconds" in response.text


async def test_unknown_methods_and_paths_do_not_grow_the_label_set(
    client: httpx.AsyncClient,
) -> None:
    await client.request("BREW", "/random/path/123")
    text_ = (await client.get("/metrics")).text
    assert "/random/path/123" not in text_
    assert "BREW" not in text_
    assert sample("tactful_http_requests_total", method="OTHER", route="unmatched", status="404")


async def test_events_are_counted_by_outcome_once_committed(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key()
    before = {o: sample("tactful_events_total", outcome=o) for o in ("applied", "rejected")}
    body = {
        "events": [
            {"id": "e-1", "type": "account.cured", "account_ref": "NOPE", "occurred_at": "x"},
        ]
    }
    response = await client.post("/v1/events", json=body, headers=bearer(key))
    assert response.status_code == 200
    assert sample("tactful_events_total", outcome="rejected") == before["rejected"] + 1
    assert sample("tactful_events_total", outcome="applied") == before["applied"]


async def test_pool_gauges_are_read_from_the_engine(settings: Settings) -> None:
    quiet = {
        "evaluator_enabled": False,
        "webhooks_enabled": False,
        "report_summaries_enabled": False,
    }
    app = create_app(settings.model_copy(update=quiet))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            assert (await http.get("/readyz")).status_code == 200
            text_ = (await http.get("/metrics")).text
    assert f"tactful_db_pool_size {float(settings.db_pool_size)}" in text_
    assert "tactful_db_pool_checked_out 0.0" in text_


@pytest.mark.parametrize("path", ["/v1/accounts", "/healthz", "/nowhere"])
async def test_security_headers_on_every_response(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_docs_may_load_scripts_but_not_be_framed(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"


async def test_cors_is_off_unless_configured(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> None:
    preflight = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    closed = await client.options("/v1/accounts", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    app = create_app(
        settings.model_copy(update={"cors_origins": ["https://app.example"]}),
        sessionmaker=sessionmaker,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        open_ = await http.options("/v1/accounts", headers=preflight)
        other = await http.options(
            "/v1/accounts", headers=preflight | {"Origin": "https://evil.example"}
        )
    assert open_.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers


async def test_last_used_time_is_written_at_most_once_a_minute(
    client: httpx.AsyncClient, connection: AsyncConnection, make_key: KeyMaker
) -> None:
    key = await make_key()
    prefix = key.split("_")[1]
    query = text("SELECT last_used_at FROM api_keys WHERE prefix = :p")
    assert await connection.scalar(query, {"p": prefix}) is None
    await client.get("/v1/accounts", headers=bearer(key))
    first = await connection.scalar(query, {"p": prefix})
    assert first is not None
    await client.get("/v1/accounts", headers=bearer(key))
    assert await connection.scalar(query, {"p": prefix}) == first
    stale = first - timedelta(minutes=2)
    await connection.execute(
        text("UPDATE api_keys SET last_used_at = :t WHERE prefix = :p"), {"t": stale, "p": prefix}
    )
    await client.get("/v1/accounts", headers=bearer(key))
    assert await connection.scalar(query, {"p": prefix}) > stale


class Capture(logging.Handler):
    """Formats at emit time, as the real handler does (the request id is a context var)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_logs_carry_request_id_and_tenant_never_keys_or_numbers(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key()
    body = account_body(
        contacts=[{"kind": "phone", "value": "+1 415 555 0100", "relationship": "self"}]
    )
    capture, root = Capture(), logging.getLogger()
    root.addHandler(capture)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        created = await client.put("/v1/accounts/LOG-1", json=body, headers=bearer(key))
        await client.get("/v1/accounts", headers={"Authorization": f"Bearer {key}x"})
    finally:
        root.removeHandler(capture)
        root.setLevel(level)
    assert created.status_code in (200, 201)
    access = [json.loads(line) for line in capture.lines if '"tactful.access"' in line]
    assert len(access) == 2
    assert all("request_id" in line for line in access)
    assert "tenant_id" in access[0]
    joined = "\n".join(capture.lines)
    assert key.split("_", 2)[2] not in joined
    assert "415 555" not in joined
    assert "4155550100" not in joined


async def test_a_statement_over_its_timeout_is_a_503_not_a_hang(
    settings: Settings, engine: AsyncEngine
) -> None:
    app = create_app(
        settings.model_copy(update={"evaluator_enabled": False, "db_statement_timeout_ms": 200})
    )
    async with engine.connect() as locker:
        await locker.execute(text("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE"))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                response = await http.get("/v1/accounts", headers=bearer("tf_0123456789ab_x"))
        await locker.rollback()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.json()["detail"] == "The request took too long and was cancelled; retry later."


@pytest.mark.parametrize(
    "contact",
    [
        {"kind": "phone", "value": "+1 415 555 01999999999", "relationship": "self"},
        {"kind": "email", "value": "li.wei@@example", "relationship": "self"},
        {"kind": "phone", "value": "+1 415 555 0100", "relationship": "cousin-of-mine"},
    ],
)
async def test_error_bodies_never_echo_personal_data(
    client: httpx.AsyncClient, make_key: KeyMaker, contact: dict[str, str]
) -> None:
    key = await make_key()
    body = account_body(contacts=[contact])
    response = await client.put("/v1/accounts/PD-1", json=body, headers=bearer(key))
    assert response.status_code == 422
    assert contact["value"] not in response.text
    assert "415 555" not in response.text and "li.wei" not in response.text
    assert body["debtor"]["name"] not in response.text


async def test_a_bad_key_is_never_echoed(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    key = await make_key()
    wrong = key[:-4] + "abcd"
    response = await client.get("/v1/accounts", headers=bearer(wrong))
    assert response.status_code == 401
    assert wrong.split("_", 2)[2] not in response.text


async def test_readiness_fails_when_the_schema_is_not_at_head(
    client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    await connection.execute(text("UPDATE alembic_version SET version_num = 'c3a10f5e0003'"))
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "c3a10f5e0003" in response.json()["detail"]
    assert (await client.get("/healthz")).status_code == 200


async def test_every_connection_has_statement_and_idle_transaction_timeouts(
    settings: Settings,
) -> None:
    assert settings.database_url
    tuned = settings.model_copy(
        update={"db_statement_timeout_ms": 1234, "db_idle_in_transaction_timeout_ms": 5678}
    )
    engine = create_engine(settings.database_url, tuned)
    try:
        async with engine.connect() as conn:
            statement = await conn.scalar(text("SHOW statement_timeout"))
            idle = await conn.scalar(text("SHOW idle_in_transaction_session_timeout"))
    finally:
        await engine.dispose()
    assert (statement, idle) == ("1234ms", "5678ms")


async def test_the_evaluator_loop_reports_passes_and_stops_between_them(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    before = sample("tactful_evaluator_passes_total", result="ok")
    stop = asyncio.Event()
    loop = asyncio.create_task(run_forever(sessionmaker, 0.01, stop))
    for _ in range(500):
        if sample("tactful_evaluator_passes_total", result="ok") > before:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(loop, 10)
    assert sample("tactful_evaluator_passes_total", result="ok") > before
    assert 0 <= sample("tactful_evaluator_last_pass_timestamp_seconds") <= time.time()
    metrics.render(None)
    assert 0 <= sample("tactful_evaluator_lag_seconds") < 60
