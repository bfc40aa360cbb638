"""Claims, leases, outcomes and releases through the API, on a sandbox clock."""

import uuid

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import KeyMaker, bearer, table_counts
from tests.dialer.helpers import Dialer

LATER = "2026-12-01T02:10:00+00:00"  # ten minutes on: a 300 s lease has expired


async def test_claim_hands_out_the_debtors_phone_with_everything_to_call(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Dialer.start(client, make_key)
    contacts = await box.open_account()
    tasks = await box.claim(lease_seconds=120, agent="agent-1")
    assert len(tasks) == 1, tasks
    task = tasks[0]
    assert task["account_ref"] == "L-1"
    assert task["contact_id"] == contacts["self:phone"]
    assert task["address"] == "+8613812345678"  # in clear: dialer tasks are never masked
    assert (task["channel"], task["relationship"], task["purpose"]) == ("call", "self", "reminder")
    assert task["stage"] == "reminder" and task["tier"] == "B"
    assert task["lease_expires_at"] == "2026-12-01T02:02:00Z"
    assert task["talking_points"] and all(isinstance(p, str) for p in task["talking_points"])
    # The work is leased: nobody else gets it, nor any other work for this debtor.
    assert await box.claim() == []


async def test_outcome_records_the_call_and_schedules_the_next_task(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    box = await Dialer.start(client, make_key)
    contacts = await box.open_account()
    (task,) = await box.claim()
    response = await box.outcome(task["task_id"], at="2026-12-01T02:01:00+00:00", agent="a-1")
    assert response.status_code == 201, response.text
    recorded = response.json()
    assert recorded["contact_id"] == contacts["self:phone"]
    assert (recorded["channel"], recorded["direction"]) == ("call", "outbound")
    assert not [
        e for e in recorded["effects"] if e["type"] in ("stale_lease", "contact_rule_violation")
    ]
    assert [i["id"] for i in await box.interactions()] == [recorded["id"]]

    again = await box.outcome(task["task_id"], at="2026-12-01T02:01:00+00:00")
    assert again.status_code == 409, again.text

    rows = (
        await connection.execute(
            text("SELECT state, purpose, eligible_at FROM dialer_tasks ORDER BY id")
        )
    ).all()
    assert rows[0].state == "done"
    scheduled = [r for r in rows if r.state == "ready"]
    assert scheduled, rows  # the next call for this account, as the rules allow


async def test_release_gives_the_work_back_and_refuses_a_later_outcome(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    box = await Dialer.start(client, make_key)
    await box.open_account()
    (task,) = await box.claim()
    released = await box.release(task["task_id"])
    assert released.status_code == 200, released.text
    assert (await box.release(task["task_id"])).status_code == 409

    before = await table_counts(connection)
    late = await box.outcome(task["task_id"])
    assert late.status_code == 409, late.text
    assert late.headers["content-type"].startswith("application/problem+json")
    assert await table_counts(connection) == before
    assert await box.interactions() == []

    (again,) = await box.claim()  # the same work, under a new task id
    assert again["contact_id"] == task["contact_id"] and again["task_id"] != task["task_id"]


async def test_expired_lease_returns_under_a_new_id_and_its_outcome_is_flagged_stale(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Dialer.start(client, make_key)
    await box.open_account()
    (first,) = await box.claim(lease_seconds=300)
    await box.set_clock(LATER)
    assert await box.claim(filter={"tiers": ["A"]}) == []  # back in the pool, not this claim's
    (second,) = await box.claim(lease_seconds=300)
    assert second["contact_id"] == first["contact_id"]
    assert second["task_id"] != first["task_id"]

    assert (await box.release(first["task_id"])).status_code == 409  # no longer live

    stale = await box.outcome(first["task_id"], at="2026-12-01T02:04:00+00:00")
    assert stale.status_code == 201, stale.text
    assert {"type": "stale_lease", "task_id": first["task_id"]} in stale.json()["effects"]
    assert len(await box.interactions()) == 1  # the call happened: it is recorded

    # The new holder is untouched: its lease is still live.
    assert (await box.release(second["task_id"])).status_code == 200


async def test_outcome_times_must_be_possible(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    box = await Dialer.start(client, make_key)
    await box.open_account()
    (task,) = await box.claim()
    before = await table_counts(connection)
    for at, msg in (
        ("2026-12-01T01:59:00+00:00", "before"),
        ("2026-12-01T03:00:00+00:00", "future"),
    ):
        response = await box.outcome(task["task_id"], at=at)
        assert response.status_code == 422, response.text
        assert ["body", "occurred_at"] in [e["loc"] for e in response.json()["errors"]]
        assert msg in response.text
    assert await table_counts(connection) == before


async def test_unknown_and_other_tenants_tasks_are_404(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Dialer.start(client, make_key)
    await box.open_account()
    (task,) = await box.claim()
    other = box.with_key(await make_key("globex"))
    for dialer, task_id in ((box, str(uuid.uuid4())), (other, task["task_id"])):
        assert (await dialer.outcome(task_id)).status_code == 404
        assert (await dialer.release(task_id)).status_code == 404
    assert await other.claim() == []
    assert (await box.release(task["task_id"])).status_code == 200


async def test_partner_key_gets_only_its_placements_in_clear(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Dialer.start(client, make_key)
    await box.open_account("P-X", partner="agency-x", customer_ref="cust-x")
    await box.open_account("P-Y", partner="agency-y", customer_ref="cust-y")
    await box.open_account("P-N", customer_ref="cust-n")
    partner = box.with_key(await make_key("sbx", partner="agency-x"))
    assert await partner.claim(filter={"partner": "agency-y"}) == []
    tasks = await partner.claim()
    assert [t["account_ref"] for t in tasks] == ["P-X"]
    assert tasks[0]["address"] == "+8613812345678"
    (own,) = [t for t in tasks]
    assert (await box.release(own["task_id"])).status_code == 200  # the tenant's key may
    (again,) = await partner.claim()
    other_partner = box.with_key(await make_key("sbx", partner="agency-y"))
    assert (await other_partner.release(again["task_id"])).status_code == 404
    refs = {t["account_ref"] for t in await box.claim()}
    assert refs == {"P-Y", "P-N"}


async def test_filters_select_tiers_and_stages(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Dialer.start(client, make_key)
    await box.open_account()
    assert await box.claim(filter={"tiers": ["A", "C"]}) == []
    assert await box.claim(filter={"stages": ["early"]}) == []
    (task,) = await box.claim(filter={"tiers": ["B"], "stages": ["reminder"]})
    assert task["account_ref"] == "L-1"


async def test_claim_time_refusal_is_counted_by_rule_and_closes_the_task(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    box = await Dialer.start(client, make_key)
    contacts = await box.open_account()
    # A change the queue has not caught up with (the contacts endpoint would re-evaluate the
    # account and close the task at once): only the claim-time check stands in the way.
    await connection.execute(
        text("UPDATE contacts SET status = 'do_not_contact' WHERE id = :id"),
        {"id": contacts["self:phone"]},
    )
    assert await box.claim() == []
    blocks = (
        await connection.execute(text("SELECT contact_id, rule, jurisdiction FROM contact_blocks"))
    ).all()
    assert [(str(b.contact_id), b.rule, b.jurisdiction) for b in blocks] == [
        (contacts["self:phone"], "do_not_contact", "cn_nifa")
    ]
    states = (await connection.execute(text("SELECT state FROM dialer_tasks"))).scalars().all()
    assert set(states) == {"done"}


async def test_a_lease_that_would_outlast_the_window_is_refused_and_postponed(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    # 21:30 in Shanghai: a 10-minute lease fits the cn_nifa window (to 22:00), an hour does not.
    box = await Dialer.start(client, make_key, at="2026-12-01T13:30:00+00:00")
    await box.open_account()
    assert await box.claim(lease_seconds=3600) == []
    rule, eligible = (
        await connection.execute(
            text(
                "SELECT b.rule, t.eligible_at FROM contact_blocks b "
                "JOIN dialer_tasks t ON t.contact_id = b.contact_id"
            )
        )
    ).one()
    assert rule == "calling_window"
    assert eligible.isoformat() == "2026-12-02T00:00:00+00:00"  # 08:00 next day in Shanghai
    assert await box.claim(lease_seconds=600) == []  # not before its new time
    await box.set_clock("2026-12-02T00:00:00+00:00")
    assert len(await box.claim(lease_seconds=600)) == 1


async def test_a_call_that_broke_a_rule_is_recorded_and_flagged(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    box = await Dialer.start(client, make_key, at="2026-12-01T15:00:00+00:00")
    contacts = await box.open_account()
    body = {
        "contact_id": contacts["self:phone"],
        "channel": "call",
        "direction": "outbound",
        "occurred_at": "2026-12-01T14:30:00+00:00",  # 22:30 in Shanghai
        "outcome": "no_answer",
    }
    response = await client.post("/v1/accounts/L-1/interactions", json=body, headers=box.auth)
    assert response.status_code == 201, response.text
    flagged = [e for e in response.json()["effects"] if e["type"] == "contact_rule_violation"]
    assert flagged == [{"type": "contact_rule_violation", "rules": ["calling_window"]}]
    stored = (await connection.execute(text("SELECT violations FROM interactions"))).scalar_one()
    assert stored == ["calling_window"]


async def test_reassigned_work_never_goes_back_to_an_earlier_agent(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    box = await Dialer.start(client, make_key)
    await box.open_account()
    (task,) = await box.claim(agent="agent-old")
    done = await box.outcome(task["task_id"], at="2026-12-01T02:01:00+00:00", agent="agent-old")
    assert done.status_code == 201, done.text
    await connection.execute(
        text("UPDATE accounts SET stage = 'reassigned', stage_entered_at = '2026-12-01T02:05:00Z'")
    )
    await connection.execute(text("UPDATE dialer_tasks SET state = 'done'"))
    await box.set_clock("2026-12-01T06:00:00+00:00")  # 14:00 in Shanghai
    # A hold added and lifted re-evaluates the account, which regenerates its tasks.
    hold = await client.post(
        "/v1/accounts/L-1/escalation/holds", json={"kind": "manual", "note": "x"}, headers=box.auth
    )
    assert hold.status_code == 201, hold.text
    lifted = await client.delete(
        f"/v1/accounts/L-1/escalation/holds/{hold.json()['id']}", headers=box.auth
    )
    assert lifted.status_code < 300, lifted.text
    assert await box.claim() == []
    assert await box.claim(agent="agent-old") == []
    tasks = await box.claim(agent="agent-new")
    assert tasks and {t["stage"] for t in tasks} == {"reassigned"}


async def test_claims_need_the_dialer_scope(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    key = await make_key("acme", scopes=["accounts:read", "accounts:write"])
    response = await client.post(
        "/v1/dialer/claims", json={"limit": 1, "lease_seconds": 60}, headers=bearer(key)
    )
    assert response.status_code == 403


async def test_whole_numbers_may_be_written_as_json_floats(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Dialer.start(client, make_key)
    await box.open_account()
    assert (await box.claim_response(limit=1.5)).status_code == 422
    assert (await box.claim_response(limit="1")).status_code == 422
    (task,) = await box.claim(limit=1.0, lease_seconds=300.0)
    assert task["lease_expires_at"] == "2026-12-01T02:05:00Z"
