"""Engine and session factory. Sessions are opened and committed only by the request boundary
(app.http.routing.TransactionalRoute) and by CLI commands; services only flush."""

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.config import Settings, async_database_url


def create_engine(url: str, settings: Settings, name: str = "tactful") -> AsyncEngine:
    """`name` is the connections' application_name (`tactful-read` for the reports' replica)."""
    return create_async_engine(
        async_database_url(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_pre_ping=True,
        connect_args={
            "timeout": 5,
            "server_settings": {
                "application_name": name,
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "idle_in_transaction_session_timeout": str(
                    settings.db_idle_in_transaction_timeout_ms
                ),
                "timezone": "UTC",
            },
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
