"""The session's own asyncpg connection, for the few hot reads that build plain records by
position: prepared once per connection (asyncpg's statement cache), no ORM or Core row layer."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


async def driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection inside the session's transaction.

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, with its first statement; a statement sent
    on the driver connection before that would run outside the transaction (and end it, with
    the row locks the caller holds). So pending changes are flushed and the transaction is made
    to begin first."""
    await session.flush()
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if not driver.is_in_transaction():
        await connection.exec_driver_sql("SELECT 1")
    return driver
