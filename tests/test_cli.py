"""The tactful CLI against the test database (real commits, cleaned up afterwards)."""

import hashlib
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from app.cli import main
from app.config import get_settings


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    tenant = f"cli-{uuid.uuid4().hex[:8]}"
    yield tenant
    get_settings.cache_clear()


def sync_sql(database_url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine

    from app.config import async_database_url

    async def run() -> list[tuple[object, ...]]:
        engine = create_async_engine(async_database_url(database_url))
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            rows = [tuple(row) for row in result] if result.returns_rows else []
        await engine.dispose()
        return rows

    return asyncio.run(run())


def test_tenant_and_key_lifecycle(
    cli_env: str, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = cli_env
    try:
        assert (
            main(
                [
                    "tenant",
                    "create",
                    tenant,
                    "--sandbox",
                    "--jurisdiction",
                    "uk_fca",
                    "--timezone",
                    "Europe/London",
                ]
            )
            == 0
        )
        assert main(["tenant", "create", tenant]) == 2  # already exists
        assert main(["tenant", "create", "x", "--timezone", "Mars/Olympus"]) == 2
        capsys.readouterr()

        assert (
            main(
                [
                    "key",
                    "create",
                    "--tenant",
                    tenant,
                    "--scopes",
                    "accounts:read,dialer",
                    "--partner",
                    "agency-x",
                ]
            )
            == 0
        )
        key = capsys.readouterr().out.strip().splitlines()[-1]
        assert key.startswith("tf_") and len(key) >= 3 + 12 + 1 + 43
        prefix = key.split("_")[1]

        rows = sync_sql(
            database_url,
            "SELECT k.digest, k.scopes, k.partner, t.sandbox, t.jurisdiction, t.timezone "
            "FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.prefix = :p",
            p=prefix,
        )
        digest, scopes, partner, sandbox, jurisdiction, zone = rows[0]
        assert bytes(digest) == hashlib.sha256(key.encode()).digest()
        assert (scopes, partner) == (["accounts:read", "dialer"], "agency-x")
        assert (sandbox, jurisdiction, zone) == (True, "uk_fca", "Europe/London")
        dump = sync_sql(database_url, "SELECT k::text FROM api_keys k WHERE prefix = :p", p=prefix)
        assert key.split("_", 2)[2] not in str(dump)

        assert main(["key", "create", "--tenant", tenant, "--scopes", "root"]) == 2
        assert main(["key", "revoke", prefix]) == 0
        assert main(["key", "revoke", prefix]) == 1
        revoked = sync_sql(
            database_url, "SELECT revoked_at IS NOT NULL FROM api_keys WHERE prefix = :p", p=prefix
        )
        assert revoked == [(True,)]
    finally:
        sync_sql(
            database_url,
            "DELETE FROM api_keys WHERE tenant_id IN (SELECT id FROM tenants WHERE name = :n)",
            n=tenant,
        )
        sync_sql(database_url, "DELETE FROM tenants WHERE name = :n", n=tenant)


def test_deliver_once_sends_what_is_due(
    cli_env: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`tactful deliver --once` fans the outbox out, attempts and records each delivery (here
    to a closed local port, so the attempt fails and is scheduled again)."""
    monkeypatch.setenv("TACTFUL_WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    tenant = cli_env
    try:
        assert main(["tenant", "create", tenant]) == 0
        sync_sql(
            database_url,
            "INSERT INTO webhook_endpoints (tenant_id, id, url, events, secret, status, "
            "created_at, outbox_after) SELECT id, gen_random_uuid(), 'http://127.0.0.1:9/x', "
            "'{account.closed}', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'active', now(), 0 "
            "FROM tenants WHERE name = :n",
            n=tenant,
        )
        sync_sql(
            database_url,
            "INSERT INTO outbox (tenant_id, type, payload, occurred_at) SELECT id, "
            "'account.closed', '{\"account_ref\": \"C-1\"}', now() FROM tenants WHERE name = :n",
            n=tenant,
        )
        capsys.readouterr()
        assert main(["deliver", "--once"]) == 0
        assert "attempted 1 webhook deliveries" in capsys.readouterr().out
        rows = sync_sql(
            database_url,
            "SELECT d.status, d.attempts, d.retry_step, d.last_error IS NOT NULL "
            "FROM webhook_deliveries d JOIN tenants t ON t.id = d.tenant_id WHERE t.name = :n",
            n=tenant,
        )
        assert rows == [("pending", 1, 1, True)]
    finally:
        for table in ("webhook_deliveries", "webhook_endpoints", "outbox"):
            sync_sql(
                database_url,
                f"DELETE FROM {table} WHERE tenant_id IN (SELECT id FROM tenants WHERE name = :n)",
                n=tenant,
            )
        sync_sql(database_url, "DELETE FROM tenants WHERE name = :n", n=tenant)
