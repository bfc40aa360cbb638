"""A due evaluation recomputes an account's tasks only when its decision or the passing of
time changed what they are computed from; a write always does."""

from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from app.dialer.generation import SinceComputed, since_computed, sync_tasks
from app.evaluation.runner import tenant_actor
from app.evaluation.service import evaluate_due
from app.models import Tenant
from tests.conftest import KeyMaker
from tests.dialer.helpers import Dialer

T0 = datetime(2026, 12, 1, 2, tzinfo=UTC)
DUE = date(2026, 11, 1)  # 30 days late at T0 in UTC: three lateness points


def test_never_computed_tasks_are_recomputed() -> None:
    assert since_computed(None, T0, "UTC", DUE, ()) == SinceComputed(True, 0)


def test_the_same_lateness_and_no_hold_running_out_changes_nothing() -> None:
    assert since_computed(T0, T0 + timedelta(days=9), "UTC", DUE, ()) == SinceComputed(False, 0)
    assert since_computed(T0, T0 + timedelta(days=1), "UTC", DUE, (None,)).recompute is False


def test_a_new_lateness_point_shifts_the_priority() -> None:
    # 39 days late on 12-10, 40 on 12-11 (midnight in the tenant's zone).
    eve, midnight = datetime(2026, 12, 10, 23, 59, tzinfo=UTC), datetime(2026, 12, 11, tzinfo=UTC)
    assert since_computed(T0, eve, "UTC", DUE, ()) == SinceComputed(False, 0)
    assert since_computed(T0, midnight, "UTC", DUE, ()) == SinceComputed(False, 1)
    assert since_computed(T0, T0 + timedelta(days=25), "UTC", DUE, ()).lateness_shift == 2
    # The tenant's zone decides the day: 12-11 begins earlier in Shanghai.
    shanghai_eve = datetime(2026, 12, 10, 16, 0, tzinfo=UTC)  # 12-11 00:00 there
    assert since_computed(T0, shanghai_eve, "Asia/Shanghai", DUE, ()).lateness_shift == 1
    assert since_computed(T0, shanghai_eve, "UTC", DUE, ()).lateness_shift == 0
    # Lateness points stop at the cap.
    long_ago = date(2020, 1, 1)
    assert since_computed(T0, T0 + timedelta(days=30), "UTC", long_ago, ()).lateness_shift == 0


def test_a_hold_running_out_since_the_last_computation_means_recomputing() -> None:
    ends = T0 + timedelta(hours=5)
    assert since_computed(T0, ends, "UTC", DUE, (ends,)).recompute
    assert not since_computed(T0, ends - timedelta(seconds=1), "UTC", DUE, (ends,)).recompute
    assert not since_computed(ends, ends + timedelta(hours=1), "UTC", DUE, (ends,)).recompute


async def _tasks(connection: AsyncConnection) -> list[tuple[object, ...]]:
    rows = await connection.execute(
        text("SELECT id, state, purpose, priority, updated_at FROM dialer_tasks ORDER BY id")
    )
    return [tuple(row) for row in rows]


async def _due_pass(
    sessionmaker: async_sessionmaker[AsyncSession], connection: AsyncConnection
) -> int:
    await connection.execute(
        text("UPDATE evaluation_schedule SET next_evaluation_at = now() - interval '100 years'")
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


async def test_a_due_evaluation_ten_days_on_raises_the_priority_as_a_recomputation_would(
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    sessionmaker: async_sessionmaker[AsyncSession],
    connection: AsyncConnection,
) -> None:
    box = await Dialer.start(client, make_key)
    await box.open_account()
    await connection.execute(text("UPDATE accounts SET stage_entered_at = now() + interval '1 y'"))
    (before,) = [row for row in await _tasks(connection) if row[1] == "ready"]
    await box.set_clock("2026-12-11T02:00:00+00:00")  # ten days on: one more lateness point
    assert await _due_pass(sessionmaker, connection) == 1
    (shifted,) = [row for row in await _tasks(connection) if row[1] == "ready"]
    assert (shifted[0], shifted[3]) == (before[0], int(str(before[3])) + 1)
    # What recomputing from scratch (as a write does) makes of it: the same priority.
    await connection.execute(text("UPDATE dialer_tasks SET priority = 0"))
    account_id = (await connection.execute(text("SELECT id FROM accounts"))).scalar_one()
    async with sessionmaker() as session:
        tenant = (await session.scalars(select(Tenant).where(Tenant.name == "sbx"))).one()
        actor = tenant_actor(tenant)
        await sync_tasks(session, tenant.id, actor.clock.timezone, [account_id], actor.clock.now())
        await session.commit()
    (recomputed,) = [row for row in await _tasks(connection) if row[1] == "ready"]
    assert recomputed[3] == shifted[3]


async def test_contacts_written_through_their_endpoints_change_the_work_at_once(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Dialer.start(client, make_key)
    await box.open_account()
    added = await client.post(
        "/v1/accounts/L-1/contacts",
        json={"kind": "phone", "value": "+86 139 1234 0000", "relationship": "self"},
        headers=box.auth,
    )
    assert added.status_code == 201, added.text
    new_id = added.json()["id"]
    claimed = await box.claim()
    assert claimed, "the debtor has work"
    # One live lease per debtor: give it back, then take the new number out of service.
    for task in claimed:
        assert (await box.release(task["task_id"])).status_code == 200
    contacts = await client.get("/v1/accounts/L-1/contacts", headers=box.auth)
    phones = [c["id"] for c in contacts.json()["items"] if c["kind"] == "phone"]
    assert new_id in phones
    for contact_id in phones:
        if contact_id != new_id:
            patched = await client.patch(
                f"/v1/accounts/L-1/contacts/{contact_id}",
                json={"status": "do_not_contact"},
                headers=box.auth,
            )
            assert patched.status_code == 200, patched.text
    seen = set()
    for _ in range(3):
        for task in await box.claim():
            seen.add(task["contact_id"])
            assert (await box.release(task["task_id"])).status_code == 200
    assert seen == {new_id}
