"""The schema comes from the migrations, and the models never drift from them."""

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.base import Base
from app.db.migrations import head_revision
from app.openapi_doc import current

ROOT = Path(__file__).resolve().parents[1]


async def test_models_match_the_migrations(connection: AsyncConnection) -> None:
    def diff(sync: Connection) -> list[Any]:
        context = MigrationContext.configure(sync, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    assert await connection.run_sync(diff) == []


async def test_database_is_at_head(connection: AsyncConnection) -> None:
    version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    assert version == head_revision()


def test_migration_files_are_sortable_by_date() -> None:
    names = sorted(p.name for p in (ROOT / "alembic" / "versions").glob("*.py"))
    assert names, "no migrations"
    for name in names:
        assert name[:4].isdigit() and name[4] == "_" and "-" in name, name


def test_openapi_md_is_current() -> None:
    assert (ROOT / "openapi.md").read_text() == current(), "run `make openapi`"


async def test_the_drift_check_notices_a_missing_migration(connection: AsyncConnection) -> None:
    from sqlalchemy import Column, Integer, MetaData, Table

    drifted = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    Table("not_migrated", drifted, Column("id", Integer, primary_key=True))

    def diff(sync: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(sync), drifted))

    assert [change[0] for change in await connection.run_sync(diff)] == ["add_table"]


# Unique indexes (primary keys among them) and foreign keys whose first column is not
# tenant_id: a sharded PostgreSQL distributed by tenant_id cannot enforce them per shard.
_KEYS_NOT_LED_BY_TENANT = text(
    """
    SELECT ix.indrelid::regclass::text, i.relname
    FROM pg_index AS ix JOIN pg_class AS i ON i.oid = ix.indexrelid
    WHERE i.relnamespace = 'public'::regnamespace AND ix.indisunique
      AND (SELECT attname FROM pg_attribute
           WHERE attrelid = ix.indrelid AND attnum = ix.indkey[0]) IS DISTINCT FROM 'tenant_id'
    UNION ALL
    SELECT c.conrelid::regclass::text, c.conname
    FROM pg_constraint AS c
    WHERE c.connamespace = 'public'::regnamespace AND c.contype = 'f'
      AND (SELECT attname FROM pg_attribute
           WHERE attrelid = c.conrelid AND attnum = c.conkey[1]) IS DISTINCT FROM 'tenant_id'
    """
)
_TABLES_WITHOUT_TENANT = text(
    """
    SELECT c.relname FROM pg_class AS c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
      AND NOT EXISTS (SELECT 1 FROM pg_attribute AS a
                      WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
    """
)


async def test_every_key_is_led_by_tenant_id(connection: AsyncConnection) -> None:
    """README, Sharding: tenant-owned tables can be distributed by tenant_id as they are."""
    without = set((await connection.execute(_TABLES_WITHOUT_TENANT)).scalars())
    assert without == {"tenants", "alembic_version"}
    keys = {tuple(row) for row in await connection.execute(_KEYS_NOT_LED_BY_TENANT)}
    assert keys == {
        ("alembic_version", "alembic_version_pkc"),
        ("tenants", "pk_tenants"),
        ("tenants", "uq_tenants_name"),
        # A key is found by its prefix before its tenant is known (a reference table).
        ("api_keys", "uq_api_keys_prefix"),
    }
