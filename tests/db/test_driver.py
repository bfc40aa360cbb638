from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.driver import driver_connection
from app.models import Tenant


async def test_the_driver_connection_works_inside_the_sessions_transaction(
    committed_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with committed_sessionmaker() as session:
        driver = await driver_connection(session)  # the session's very first statement
        await driver.execute("SET LOCAL application_name = 'inside'")
        assert (await session.execute(text("SHOW application_name"))).scalar_one() == "inside"
        await session.rollback()
        assert (await session.execute(text("SHOW application_name"))).scalar_one() != "inside"


async def test_objects_the_session_has_not_flushed_are_seen_by_the_driver(
    committed_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with committed_sessionmaker() as session:
        session.add(Tenant(name="pending", jurisdiction="us_reg_f", timezone="UTC"))
        driver = await driver_connection(session)
        assert await driver.fetchval("SELECT count(*) FROM tenants WHERE name = 'pending'") == 1
        await session.rollback()
