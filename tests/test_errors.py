"""Every failure is application/problem+json, never a stack trace or FastAPI's {"detail"}."""

import httpx
from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from app.config import Settings
from app.http.routing import TransactionalRoute
from app.main import create_app
from tests.conftest import KeyMaker, bearer
from tests.factories import account_body


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert "Traceback" not in response.text
    return dict(body)


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/nothing-here"), 404)


async def test_wrong_method_is_a_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/v1/accounts")
    assert_problem(response, 405)
    assert "GET" in response.headers["allow"]


async def test_non_json_body_is_415(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    response = await client.put(
        "/v1/accounts/L-1",
        content=b"debtor=x",
        headers={**bearer(await make_key()), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 415)


async def test_malformed_json_is_422_naming_the_body(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    response = await client.put(
        "/v1/accounts/L-1",
        content=b'{"debtor": ',
        headers={**bearer(await make_key()), "Content-Type": "application/json"},
    )
    body = assert_problem(response, 422)
    assert body["errors"] == [{"loc": ["body"], "msg": "malformed JSON"}]


async def test_oversized_body_is_413(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    huge = account_body(product="x" * 300_000)
    response = await client.put("/v1/accounts/L-1", json=huge, headers=bearer(await make_key()))
    assert_problem(response, 413)


async def test_validation_names_the_nested_field(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    body = account_body()
    body["debtor"]["timezone"] = "Mars/Olympus"
    response = await client.put("/v1/accounts/L-1", json=body, headers=bearer(await make_key()))
    problem = assert_problem(response, 422)
    assert problem["errors"] == [
        {"loc": ["body", "debtor", "timezone"], "msg": "not an IANA time zone name"}
    ]


async def test_an_unexpected_error_is_a_500_problem_without_details(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    app = create_app(settings, sessionmaker=sessionmaker)
    router = APIRouter(route_class=TransactionalRoute)

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals tf_0123456789ab_shhh")

    app.include_router(router)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/boom")
    assert_problem(response, 500)
    assert "secret" not in response.text
    assert response.headers["x-request-id"]


async def test_database_down_is_a_fast_503_with_retry_after(settings: Settings) -> None:
    dead = create_async_engine(
        "postgresql+asyncpg://postgres@127.0.0.1:1/none", connect_args={"timeout": 2}
    )
    app = create_app(settings, sessionmaker=async_sessionmaker(dead))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/v1/accounts", headers=bearer("tf_0123456789ab_" + "x" * 43))
        ready = await http.get("/readyz")
        health = await http.get("/healthz")
    assert_problem(response, 503)
    assert response.headers["retry-after"].isdigit()
    assert_problem(ready, 503)
    assert health.status_code == 200
    await dead.dispose()


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32


async def test_streamed_oversized_body_is_413(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"product": "'
        for _ in range(40):
            yield b"x" * 8192
        yield b'"}'

    response = await client.put(
        "/v1/accounts/L-1",
        content=chunks(),
        headers={**bearer(await make_key()), "Content-Type": "application/json"},
    )
    assert_problem(response, 413)
