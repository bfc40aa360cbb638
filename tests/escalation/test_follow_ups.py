import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from app.evaluation.apply import insert_follow_ups
from tests.conftest import KeyMaker, bearer
from tests.factories import account_body


async def test_follow_ups_are_added_in_sets_and_never_twice_open(
    client: object,
    make_key: KeyMaker,
    sessionmaker: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
) -> None:
    auth = bearer(await make_key())
    for n in range(2):
        body = account_body()
        body["debtor"] = {**body["debtor"], "customer_ref": f"c-{n}"}
        await client.put(f"/v1/accounts/F-{n}", json=body, headers=auth)  # type: ignore[attr-defined]
    rows = (await connection.execute(text("SELECT tenant_id, id FROM accounts ORDER BY id"))).all()

    def follow_up(tenant_id: int, account_id: int) -> dict[str, object]:
        return {
            "tenant_id": tenant_id,
            "id": uuid.uuid4(),
            "account_id": account_id,
            "purpose": "collect",
            "due_at": datetime.now(UTC),
            "source": "test",
        }

    async with sessionmaker() as session:
        await insert_follow_ups(session, [follow_up(*rows[0])])
        await insert_follow_ups(session, [follow_up(t, a) for t, a in rows])
        await insert_follow_ups(session, [follow_up(*rows[1])])
        await session.commit()
    count = await connection.scalar(
        text("SELECT count(*) FROM follow_ups WHERE purpose = 'collect'")
    )
    assert count == 2
