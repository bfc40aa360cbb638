"""DATABASE_READ_URL: reports read through a second engine; everything else the primary."""

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.main import create_app
from app.tenancy import service as tenancy
from tests.conftest import bearer
from tests.factories import account_body

READ_BACKENDS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tactful-read'"
)


async def read_backends(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(READ_BACKENDS) or 0)


async def test_reports_read_through_the_read_url_when_set(
    settings: Settings,
    engine: AsyncEngine,
    committed_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # The primary's own URL stands in for a replica: what is proven is the wiring.
    configured = settings.model_copy(
        update={"evaluator_enabled": False, "database_read_url": settings.database_url}
    )
    app = create_app(configured)
    async with committed_sessionmaker() as session:
        await tenancy.create_tenant(session, "acme")
        issued = await tenancy.create_key(session, "acme", tenancy.ALL_SCOPES)
        await session.commit()
    auth = bearer(issued.key)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            opened = await http.put("/v1/accounts/R-1", json=account_body(), headers=auth)
            assert opened.status_code == 201, opened.text
            assert await read_backends(engine) == 0  # writes use the primary
            report = await http.get("/v1/reports/portfolio", headers=auth)
            assert report.status_code == 200, report.text
            assert report.json()["as_of"]
            assert await read_backends(engine) == 1  # kept open in its own pool
    assert await read_backends(engine) == 0


async def test_without_a_read_url_there_is_no_second_engine(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"evaluator_enabled": False}))
    async with app.router.lifespan_context(app):
        assert getattr(app.state, "read_sessionmaker", None) is None
