"""A sandbox tenant rehearses months of the default ladder in seconds."""

from datetime import date, timedelta
from itertools import pairwise

import httpx

from tests.conftest import KeyMaker
from tests.escalation.helpers import Sandbox

LADDER = ["reminder", "early", "network", "reassigned", "formal_notice", "external"]


def days(start: str, end: str) -> list[str]:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


async def test_one_account_climbs_from_reminder_to_external_one_step_at_a_time(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Sandbox.start(client, make_key, "2031-11-01T12:00:00+00:00")
    contacts = await box.open_account(due_date="2031-11-01")
    assert (await box.escalation())["stage"] == "reminder"
    await box.interact(
        contacts["self:phone"], "2031-11-01T12:00:00+00:00", outcome="reached_debtor"
    )

    seen = ["reminder"]
    for day in days("2031-11-02", "2032-02-28"):
        stage = (await box.day(day))["stage"]
        if stage != seen[-1]:
            assert LADDER.index(stage) == LADDER.index(seen[-1]) + 1, (day, seen, stage)
            seen.append(stage)
    assert seen == LADDER

    state = await box.escalation()
    history = [(h["from_stage"], h["to_stage"]) for h in state["history"]]
    assert history == list(pairwise(LADDER))
    assert all(h["policy_version"] == 1 for h in state["history"])
    assert state["tier"] == "B"


async def test_promise_hold_and_dispute_each_stop_the_climb_until_they_end(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Sandbox.start(client, make_key, "2031-11-01T12:00:00+00:00")
    contacts = await box.open_account(due_date="2031-11-01")
    phone = contacts["self:phone"]
    await box.interact(phone, "2031-11-01T12:00:00+00:00", outcome="reached_debtor")
    assert (await box.day("2031-11-02"))["stage"] == "early"

    assert (await box.day("2031-11-03"))["stage"] == "early"
    # A promise due 2031-11-12 holds `early` past DPD 8 until due date + 3 days' grace.
    await box.interact(
        phone,
        "2031-11-03T10:00:00+00:00",
        outcome="promise_to_pay",
        promise={"amount": 1000, "due_date": "2031-11-12"},
    )
    for day in days("2031-11-09", "2031-11-15"):
        assert (await box.day(day))["stage"] == "early", day
    # Unpaid at the end of the grace period: broken, and the climb resumes.
    assert (await box.day("2031-11-16"))["stage"] == "network"
    promises = await client.get("/v1/accounts/L-1/promises", headers=box.auth)
    assert promises.json()["items"][0]["status"] == "broken"

    # A hardship hold with a review date blocks the next step until that date.
    hold = await client.post(
        "/v1/accounts/L-1/escalation/holds",
        json={"kind": "hardship", "until": "2031-12-20T00:00:00+00:00", "note": "job loss"},
        headers=box.auth,
    )
    assert hold.status_code == 201, hold.text
    for day in days("2031-12-02", "2031-12-19"):
        assert (await box.day(day))["stage"] == "network", day
    assert (await box.day("2031-12-20"))["stage"] == "reassigned"

    # A dispute holds until it is lifted by hand.
    dispute = await client.post(
        "/v1/accounts/L-1/escalation/holds", json={"kind": "dispute"}, headers=box.auth
    )
    for day in days("2032-01-01", "2032-01-10"):
        assert (await box.day(day))["stage"] == "reassigned", day
    lifted = await client.delete(
        f"/v1/accounts/L-1/escalation/holds/{dispute.json()['id']}", headers=box.auth
    )
    assert lifted.status_code == 200
    assert (await box.day("2032-01-11"))["stage"] == "formal_notice"
