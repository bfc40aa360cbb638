import asyncio

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from tests.conftest import KeyMaker, bearer, committed_key, table_counts
from tests.factories import account_body


def keyed(key: str, idempotency_key: str) -> dict[str, str]:
    return {**bearer(key), "Idempotency-Key": idempotency_key}


async def test_same_key_and_body_replays_the_first_response(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    headers = keyed(await make_key(), "put-1")
    first = await client.put("/v1/accounts/L-1", json=account_body(), headers=headers)
    assert first.status_code == 201
    counts = await table_counts(connection)

    again = await client.put("/v1/accounts/L-1", json=account_body(), headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await table_counts(connection) == counts


async def test_key_order_in_the_body_does_not_matter(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    headers = keyed(await make_key(), "put-1")
    body = account_body()
    await client.put("/v1/accounts/L-1", json=body, headers=headers)
    reordered = dict(reversed(list(body.items())))
    again = await client.put("/v1/accounts/L-1", json=reordered, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"


async def test_same_key_with_another_body_is_422(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    headers = keyed(await make_key(), "put-1")
    await client.put("/v1/accounts/L-1", json=account_body(), headers=headers)
    counts = await table_counts(connection)
    other = await client.put("/v1/accounts/L-1", json=account_body(balance=1), headers=headers)
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await table_counts(connection) == counts


async def test_same_key_on_another_path_is_422(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    headers = keyed(await make_key(), "put-1")
    await client.put("/v1/accounts/L-1", json=account_body(), headers=headers)
    other = await client.put("/v1/accounts/L-2", json=account_body(), headers=headers)
    assert other.status_code == 422


async def test_keys_are_scoped_per_tenant(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    acme = keyed(await make_key("acme"), "shared")
    globex = keyed(await make_key("globex"), "shared")
    assert (
        await client.put("/v1/accounts/L-1", json=account_body(), headers=acme)
    ).status_code == 201
    second = await client.put("/v1/accounts/L-1", json=account_body(), headers=globex)
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers


async def test_a_failed_request_leaves_no_key_behind(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key()
    await client.put("/v1/accounts/L-1", json=account_body(), headers=bearer(key))
    headers = keyed(key, "retry-me")
    failed = await client.put(
        "/v1/accounts/L-1", json=account_body(currency="USD"), headers=headers
    )
    assert failed.status_code == 422
    retried = await client.put("/v1/accounts/L-1", json=account_body(balance=5), headers=headers)
    assert retried.status_code == 200
    assert retried.json()["balance"] == 5


async def test_malformed_key_is_422(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    headers = keyed(await make_key(), "x" * 256)
    response = await client.put("/v1/accounts/L-1", json=account_body(), headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]


async def test_a_key_still_in_progress_is_409_and_nothing_is_doubled(
    committed_client: httpx.AsyncClient,
    committed_sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
) -> None:
    key = await committed_key(committed_sessionmaker)
    created = await committed_client.put(
        "/v1/accounts/L-1", json=account_body(), headers=bearer(key)
    )
    assert created.status_code == 201
    headers = keyed(key, "slow")
    body = account_body(balance=7)

    async with engine.connect() as blocker:
        # Hold the account row so the first request waits inside its transaction.
        await blocker.execute(text("SELECT 1 FROM accounts WHERE ref = 'L-1' FOR UPDATE"))
        first = asyncio.create_task(
            committed_client.put("/v1/accounts/L-1", json=body, headers=headers)
        )
        for _ in range(100):
            locks = await blocker.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                    "database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
            if locks:
                break
            await asyncio.sleep(0.05)
        second = await committed_client.put("/v1/accounts/L-1", json=body, headers=headers)
        assert second.status_code == 409
        assert second.headers["content-type"] == "application/problem+json"
        await blocker.rollback()
    assert (await first).status_code == 200

    replay = await committed_client.put("/v1/accounts/L-1", json=body, headers=headers)
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    async with engine.connect() as conn:
        refreshes = await conn.scalar(
            text("SELECT count(*) FROM audit_log WHERE action = 'account.refreshed'")
        )
    assert refreshes == 1
