import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import KeyMaker
from tests.events.helpers import Events, sandbox


@pytest.fixture
async def events(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> Events:
    return await sandbox(client, make_key, connection, "acme")
