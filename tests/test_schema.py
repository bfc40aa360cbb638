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
