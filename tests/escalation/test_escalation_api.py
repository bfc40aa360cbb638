import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import KeyMaker, bearer
from tests.escalation.helpers import Sandbox


async def test_escalation_state_of_a_new_account(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Sandbox.start(client, make_key, "2031-11-01T12:00:00+00:00")
    await box.open_account(due_date="2031-11-01")
    state = await box.escalation()
    assert (state["stage"], state["stage_index"], state["tier"]) == ("reminder", 0, "B")
    assert state["tier_reasons"] == ["not_yet_contacted"]
    assert state["entered_at"].startswith("2031-11-01T12:00:00")
    assert state["next_evaluation_at"] is not None
    assert state["holds"] == [] and state["history"] == []


async def test_holds_validate_and_lift_once(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    box = await Sandbox.start(client, make_key, "2031-11-01T12:00:00+00:00")
    await box.open_account()
    past = await client.post(
        "/v1/accounts/L-1/escalation/holds",
        json={"kind": "hardship", "until": "2031-10-01T00:00:00+00:00"},
        headers=box.auth,
    )
    assert past.status_code == 422
    assert past.json()["errors"][0]["loc"] == ["body", "until"]
    unknown = await client.post(
        "/v1/accounts/L-1/escalation/holds", json={"kind": "vacation"}, headers=box.auth
    )
    assert unknown.status_code == 422

    hold = await client.post(
        "/v1/accounts/L-1/escalation/holds",
        json={"kind": "breathing_space", "note": "debt respite"},
        headers=box.auth,
    )
    assert hold.status_code == 201
    hold_id = hold.json()["id"]
    assert [h["id"] for h in (await box.escalation())["holds"]] == [hold_id]
    account = (await client.get("/v1/accounts/L-1", headers=box.auth)).json()
    assert [h["kind"] for h in account["holds"]] == ["breathing_space"]

    path = f"/v1/accounts/L-1/escalation/holds/{hold_id}"
    assert (await client.delete(path, headers=box.auth)).status_code == 200
    assert (await client.delete(path, headers=box.auth)).status_code == 409
    assert (await box.escalation())["holds"] == []
    actions = [
        e["action"]
        for e in (await client.get("/v1/accounts/L-1/audit", headers=box.auth)).json()["items"]
    ]
    assert actions.count("hold.created") == 1 and actions.count("hold.lifted") == 1


async def test_a_breathing_space_without_an_end_lasts_as_long_as_the_pack_says(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Sandbox.start(client, make_key, "2031-11-01T12:00:00+00:00")
    await box.open_account("UK-1", jurisdiction="uk_fca")
    await box.open_account("US-1")
    ends = {}
    for ref in ("UK-1", "US-1"):
        hold = await client.post(
            f"/v1/accounts/{ref}/escalation/holds",
            json={"kind": "breathing_space"},
            headers=box.auth,
        )
        assert hold.status_code == 201, hold.text
        ends[ref] = hold.json()["until"]
    # uk_fca: breathing_space_days = 60; us_reg_f names no length: until lifted.
    assert ends == {"UK-1": "2031-12-31T12:00:00Z", "US-1": None}
    given = await client.post(
        "/v1/accounts/UK-1/escalation/holds",
        json={"kind": "breathing_space", "until": "2031-11-15T00:00:00+00:00"},
        headers=box.auth,
    )
    assert given.json()["until"] == "2031-11-15T00:00:00Z"


async def test_manual_advance_is_one_step_and_obeys_blockers(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    box = await Sandbox.start(client, make_key, "2031-11-01T12:00:00+00:00")
    await box.open_account()
    advanced = await client.post(
        "/v1/accounts/L-1/escalation/advance",
        json={"reason": "supervisor review"},
        headers=box.auth,
    )
    assert advanced.status_code == 200, advanced.text
    state = advanced.json()
    assert state["stage"] == "early"
    assert state["history"][-1]["trigger"] == "manual: supervisor review"

    await client.post(
        "/v1/accounts/L-1/escalation/holds", json={"kind": "dispute"}, headers=box.auth
    )
    blocked = await client.post(
        "/v1/accounts/L-1/escalation/advance", json={"reason": "again"}, headers=box.auth
    )
    assert blocked.status_code == 409
    assert blocked.json()["blockers"] == ["hold:dispute"]
    assert (await box.escalation())["stage"] == "early"

    await connection.execute(text("UPDATE accounts SET status = 'closed' WHERE ref = 'L-1'"))
    closed = await client.post(
        "/v1/accounts/L-1/escalation/advance", json={"reason": "x"}, headers=box.auth
    )
    assert closed.status_code == 409
    missing = await client.post("/v1/accounts/L-1/escalation/advance", json={}, headers=box.auth)
    assert missing.status_code == 422


async def test_sandbox_clock_is_forward_only_and_live_tenants_have_none(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Sandbox.start(client, make_key, "2031-11-01T12:00:00+00:00")
    back = await client.put(
        "/v1/sandbox/clock", json={"now": "2031-10-01T00:00:00+00:00"}, headers=box.auth
    )
    assert back.status_code == 422
    naive = await client.put(
        "/v1/sandbox/clock", json={"now": "2031-12-01T00:00:00"}, headers=box.auth
    )
    assert naive.status_code == 422
    live = bearer(await make_key("live"))
    assert (
        await client.put(
            "/v1/sandbox/clock", json={"now": "2032-01-01T00:00:00+00:00"}, headers=live
        )
    ).status_code == 404
    assert (await client.post("/v1/sandbox/evaluate", headers=live)).status_code == 404


async def test_the_first_set_may_freeze_the_clock_in_the_past(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    auth = bearer(await make_key("past", sandbox=True))
    first = await client.put(
        "/v1/sandbox/clock", json={"now": "2001-02-03T04:05:06+00:00"}, headers=auth
    )
    assert first.status_code == 200, first.text
    assert first.json() == {"now": "2001-02-03T04:05:06Z", "frozen": True}
    back = await client.put(
        "/v1/sandbox/clock", json={"now": "2001-02-03T04:05:05+00:00"}, headers=auth
    )
    assert back.status_code == 422
    assert (await client.get("/v1/sandbox/clock", headers=auth)).json()["now"] == (
        "2001-02-03T04:05:06Z"
    )


async def test_interactions_drive_the_policy(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    box = await Sandbox.start(client, make_key, "2031-11-01T12:00:00+00:00")
    contacts = await box.open_account()
    await box.set_clock("2031-11-01T13:00:00+00:00")
    phone, spouse = contacts["self:phone"], contacts["spouse:phone"]

    first = await box.interact(
        phone, "2031-11-01T12:10:00+00:00", outcome="reached_debtor", reason_code="short_payment"
    )
    kinds = [e["type"] for e in first["effects"]]
    assert "reason_changed" in kinds and "tier_changed" in kinds
    state = await box.escalation()
    assert (state["tier"], state["reason"]) == (
        "A",
        {"code": "short_payment", "verification": "claimed"},
    )

    confirm = await box.interact(
        spouse,
        "2031-11-01T12:20:00+00:00",
        outcome="reached_third_party",
        reason_code="short_payment",
    )
    assert {
        "type": "reason_changed",
        "code": "short_payment",
        "verification": "verified",
    } in confirm["effects"]

    refused = await box.interact(
        phone,
        "2031-11-01T12:30:00+00:00",
        outcome="promise_to_pay",
        promise={"amount": 5000, "due_date": "2032-06-01"},
    )
    assert refused["promise"] is None
    assert refused["effects"][0]["type"] == "promise_refused"
    assert refused["effects"][0]["reason"] == "due_date_too_far_ahead"

    first_promise = await box.interact(
        phone,
        "2031-11-01T12:40:00+00:00",
        outcome="promise_to_pay",
        promise={"amount": 5000, "due_date": "2031-11-10"},
    )
    assert [e["type"] for e in first_promise["effects"]][:1] == ["promise_created"]
    second = await box.interact(
        phone,
        "2031-11-01T12:50:00+00:00",
        outcome="promise_to_pay",
        promise={"amount": 6000, "due_date": "2031-11-12"},
    )
    assert [e["type"] for e in second["effects"]][:2] == ["promise_cancelled", "promise_created"]
    promises = (await client.get("/v1/accounts/L-1/promises", headers=box.auth)).json()["items"]
    assert [(p["amount"], p["status"]) for p in promises] == [
        (6000, "pending"),
        (5000, "cancelled"),
    ]

    disputed = await box.interact(phone, "2031-11-01T12:55:00+00:00", outcome="dispute")
    assert disputed["effects"][0]["type"] == "hold_created"
    bankrupt = await box.interact(phone, "2031-11-01T12:58:00+00:00", outcome="bankruptcy_reported")
    assert {"type": "stop_added", "stop": "bankruptcy"} in bankrupt["effects"]
    account = (await client.get("/v1/accounts/L-1", headers=box.auth)).json()
    assert account["stops"] == ["bankruptcy"]


async def test_a_hold_past_its_review_date_is_no_longer_listed(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Sandbox.start(client, make_key, "2031-11-01T12:00:00+00:00")
    await box.open_account()
    hold = await client.post(
        "/v1/accounts/L-1/escalation/holds",
        json={"kind": "hardship", "until": "2031-11-10T00:00:00+00:00"},
        headers=box.auth,
    )
    assert hold.status_code == 201
    assert len((await box.escalation())["holds"]) == 1
    await box.set_clock("2031-11-10T00:00:01+00:00")
    assert (await box.escalation())["holds"] == []
    account = (await client.get("/v1/accounts/L-1", headers=box.auth)).json()
    assert account["holds"] == []
