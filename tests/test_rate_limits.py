"""Per-key rate limits: GCRA state in PostgreSQL, 429 with Retry-After and RateLimit headers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from app.config import RateLimit, Settings
from app.errors import PROBLEM_JSON
from app.main import create_app
from tests.conftest import KeyMaker, bearer

# One request per 100 s after the burst: nothing refills while a test runs.
SLOW = RateLimit(per_second=0.01, burst=3)


@asynccontextmanager
async def limited(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], **update: object
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update=update), sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://tactful.test") as http:
        yield http


async def test_a_key_gets_its_burst_then_429_with_retry_after(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], make_key: KeyMaker
) -> None:
    key = await make_key()
    async with limited(settings, sessionmaker, rate_limits={"default": SLOW}) as http:
        remaining = []
        for _ in range(3):
            response = await http.get("/v1/accounts", headers=bearer(key))
            assert response.status_code == 200
            assert response.headers["RateLimit-Policy"] == '"default";q=3;w=300'
            remaining.append(response.headers["RateLimit"].split(";")[1])
        assert remaining == ["r=2", "r=1", "r=0"]
        refused = await http.get("/v1/accounts", headers=bearer(key))
    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM_JSON
    assert 90 <= int(refused.headers["Retry-After"]) <= 100
    assert refused.headers["RateLimit"].startswith('"default";r=0;t=')
    assert refused.json()["type"] == "urn:tactful:problem:rate-limited"


async def test_limits_are_per_key_and_per_scope(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], make_key: KeyMaker
) -> None:
    first, second = await make_key(), await make_key()
    limits = {"default": RateLimit(per_second=0.01, burst=1), "events:write": SLOW}
    async with limited(settings, sessionmaker, rate_limits=limits) as http:
        assert (await http.get("/v1/accounts", headers=bearer(first))).status_code == 200
        assert (await http.get("/v1/accounts", headers=bearer(first))).status_code == 429
        assert (await http.get("/v1/accounts", headers=bearer(second))).status_code == 200
        events = await http.post("/v1/events", json={"events": []}, headers=bearer(first))
    assert events.status_code == 200
    assert events.headers["RateLimit-Policy"].startswith('"events:write";q=3')


async def test_processes_share_one_budget_through_the_database(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
    make_key: KeyMaker,
) -> None:
    """Two app instances (two server processes) draw from the same bucket."""
    key = await make_key()
    limits = {"default": SLOW}
    async with (
        limited(settings, sessionmaker, rate_limits=limits) as one,
        limited(settings, sessionmaker, rate_limits=limits) as two,
    ):
        statuses = [
            (await http.get("/v1/accounts", headers=bearer(key))).status_code
            for http in (one, two, one, two)
        ]
    assert statuses == [200, 200, 200, 429]
    stored = await connection.scalar(text("SELECT count(*) FROM rate_limit_buckets"))
    assert stored == 1


async def test_a_refused_write_changes_nothing(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
    make_key: KeyMaker,
) -> None:
    key = await make_key()
    limits = {"default": RateLimit(per_second=0.01, burst=1)}
    async with limited(settings, sessionmaker, rate_limits=limits) as http:
        assert (await http.get("/v1/accounts", headers=bearer(key))).status_code == 200
        body = {"debtor": {"name": "X"}}
        refused = await http.put("/v1/accounts/R-1", json=body, headers=bearer(key))
    assert refused.status_code == 429
    assert await connection.scalar(text("SELECT count(*) FROM accounts")) == 0


async def test_unauthenticated_requests_never_touch_a_bucket(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], connection: AsyncConnection
) -> None:
    async with limited(settings, sessionmaker, rate_limits={"default": SLOW}) as http:
        for _ in range(5):
            response = await http.get("/v1/accounts", headers=bearer("tf_000000000000_nope"))
            assert response.status_code == 401
    assert await connection.scalar(text("SELECT count(*) FROM rate_limit_buckets")) == 0


async def test_rate_limits_can_be_switched_off(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], make_key: KeyMaker
) -> None:
    key = await make_key()
    off = {"rate_limits": {"default": SLOW}, "rate_limits_enabled": False}
    async with limited(settings, sessionmaker, **off) as http:
        for _ in range(5):
            response = await http.get("/v1/accounts", headers=bearer(key))
            assert response.status_code == 200
            assert "RateLimit" not in response.headers
