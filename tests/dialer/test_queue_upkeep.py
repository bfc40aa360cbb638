"""A due evaluation recomputes an account's tasks only when its decision or the passing of
time changed what they are computed from; a write always does."""

from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from app.dialer.generation import outdated_by_time
from app.evaluation.runner import tenant_actor
from app.evaluation.service import evaluate_due
from app.models import Tenant
from tests.conftest import KeyMaker
from tests.dialer.helpers import Dialer

T0 = datetime(2026, 12, 1, 2, tzinfo=UTC)
DUE = date(2026, 11, 1)  # 30 days late at T0 in UTC: three lateness points


def test_never_evaluated_accounts_are_outdated() -> None:
    assert outdated_by_time(None, T0, "UTC", DUE, ())


def test_the_same_lateness_and_no_hold_running_out_is_current() -> None:
    assert not outdated_by_time(T0, T0 + timedelta(days=9), "UTC", DUE, ())
    assert not outdated_by_time(T0, T0 + timedelta(days=1), "UTC", DUE, (None,))


def test_a_new_lateness_point_is_outdated() -> None:
    # 39 days late on 12-10, 40 on 12-11 (midnight in the tenant's zone).
    assert not outdated_by_time(T0, datetime(2026, 12, 10, 23, 59, tzinfo=UTC), "UTC", DUE, ())
    assert outdated_by_time(T0, datetime(2026, 12, 11, 0, 0, tzinfo=UTC), "UTC", DUE, ())
    # The tenant's zone decides the day: 12-11 begins earlier in Shanghai.
    shanghai_eve = datetime(2026, 12, 10, 16, 0, tzinfo=UTC)  # 12-11 00:00 there
    assert outdated_by_time(T0, shanghai_eve, "Asia/Shanghai", DUE, ())
    assert not outdated_by_time(T0, shanghai_eve, "UTC", DUE, ())


def test_a_hold_running_out_since_the_last_computation_is_outdated() -> None:
    ends = T0 + timedelta(hours=5)
    assert outdated_by_time(T0, ends, "UTC", DUE, (ends,))
    assert not outdated_by_time(T0, ends - timedelta(seconds=1), "UTC", DUE, (ends,))
    assert not outdated_by_time(ends, ends + timedelta(hours=1), "UTC", DUE, (ends,))


async def _tasks(connection: AsyncConnection) -> list[tuple[object, ...]]:
    rows = await connection.execute(
        text("SELECT id, state, purpose, priority, updated_at FROM dialer_tasks ORDER BY id")
    )
    return [tuple(row) for row in rows]


async def _due_pass(
    sessionmaker: async_sessionmaker[AsyncSession], connection: AsyncConnection
) -> int:
    await connection.execute(
        text("UPDATE accounts SET next_evaluation_at = now() - interval '100 years'")
    )
    async with sessionmaker() as session:
        tenant = (await session.scalars(select(Tenant).where(Tenant.name == "sbx"))).one()
        result = await evaluate_due(session, tenant_actor(tenant))
        await session.commit()  # the test's savepoint: the outer transaction still rolls back
    return result.evaluated


async def test_a_due_evaluation_that_changes_nothing_leaves_the_tasks_alone(
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    sessionmaker: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
) -> None:
    box = await Dialer.start(client, make_key)
    await box.open_account()
    before = await _tasks(connection)
    assert before and {row[1] for row in before} == {"ready"}
    await box.set_clock("2026-12-01T03:00:00+00:00")
    assert await _due_pass(sessionmaker, connection) == 1
    assert await _tasks(connection) == before


async def test_a_due_evaluation_after_a_hold_ran_out_brings_the_work_back(
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    sessionmaker: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
) -> None:
    box = await Dialer.start(client, make_key)
    await box.open_account()
    held = await client.post(
        "/v1/accounts/L-1/escalation/holds",
        json={"kind": "dispute", "note": "billing", "until": "2026-12-01T05:00:00+00:00"},
        headers=box.auth,
    )
    assert held.status_code == 201, held.text
    assert await box.claim() == []
    # The hold's end is the account's next evaluation: work is there as soon as it runs.
    await box.set_clock("2026-12-01T05:00:00+00:00")
    assert await box.claim() == []
    assert await _due_pass(sessionmaker, connection) == 1
    assert [t["purpose"] for t in await box.claim()] == ["reminder"]
