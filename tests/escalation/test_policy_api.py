import copy
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import KeyMaker, bearer, table_counts
from tests.escalation.helpers import Sandbox


async def current(client: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/v1/policy", headers=auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_the_default_policy_is_version_1(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    policy = await current(client, bearer(await make_key()))
    assert policy["version"] == 1
    stages = [stage["name"] for stage in policy["document"]["ladder"]]
    assert stages == ["reminder", "early", "network", "reassigned", "formal_notice", "external"]
    assert policy["document"]["promises"]["grace_days"] == 3


async def test_put_creates_a_new_version_and_keeps_the_old(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    auth = bearer(await make_key())
    document = (await current(client, auth))["document"]
    document["promises"]["grace_days"] = 5
    created = await client.put("/v1/policy", json=document, headers=auth)
    assert created.status_code == 200, created.text
    assert created.json()["version"] == 2
    assert (await current(client, auth))["document"]["promises"]["grace_days"] == 5
    versions = (await client.get("/v1/policy/versions", headers=auth)).json()["items"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["document"]["promises"]["grace_days"] == 3


def _break(document: dict[str, Any], how: str) -> dict[str, Any]:
    broken = copy.deepcopy(document)
    if how == "unknown_field":
        broken["surprise"] = True
    elif how == "negative_dwell":
        broken["ladder"][1]["dwell_days"] = -1
    elif how == "no_trigger":
        broken["ladder"][2]["advance_when"] = []
    elif how == "gap":
        del broken["ladder"][2]
    elif how == "unordered":
        broken["ladder"][3]["advance_when"] = [{"dpd_at_least": 20}]
    elif how == "unknown_jurisdiction":
        broken["jurisdiction"] = "mars"
    elif how == "bad_zone":
        broken["candidate_timezones"] = ["Mars/Olympus"]
    elif how == "threat":
        broken["talking_points"]["en"][0]["text"] = "Pay today or we call the police."
    elif how == "unflagged_consequence":
        broken["talking_points"]["zh"][0]["text"] = "逾期会影响征信。"
    elif how == "talking_point_field":
        broken["talking_points"]["en"][0]["tone"] = "stern"
    return broken


@pytest.mark.parametrize(
    ("how", "path_part"),
    [
        ("unknown_field", "surprise"),
        ("negative_dwell", "dwell_days"),
        ("no_trigger", "ladder"),
        ("gap", "ladder"),
        ("unordered", "ladder"),
        ("unknown_jurisdiction", "jurisdiction"),
        ("bad_zone", "candidate_timezones"),
        ("threat", "talking_points en 0 text"),
        ("unflagged_consequence", "talking_points zh 0 requires"),
        ("talking_point_field", "tone"),
    ],
)
async def test_a_policy_that_could_never_work_is_422_naming_the_fault(
    client: httpx.AsyncClient, make_key: KeyMaker, how: str, path_part: str
) -> None:
    auth = bearer(await make_key())
    document = (await current(client, auth))["document"]
    response = await client.put("/v1/policy", json=_break(document, how), headers=auth)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    error = response.json()["errors"][0]
    assert path_part in " ".join(map(str, error["loc"])) + " " + error["msg"]
    assert (await current(client, auth))["version"] == 1


async def test_reading_needs_accounts_read_or_admin_and_writing_needs_admin(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    reader = bearer(await make_key(scopes=["accounts:read"]))
    document = (await current(client, reader))["document"]
    assert (await client.put("/v1/policy", json=document, headers=reader)).status_code == 403
    dialer = bearer(await make_key(scopes=["dialer"]))
    assert (await client.get("/v1/policy", headers=dialer)).status_code == 403


async def test_simulation_reports_moves_and_changes_nothing(
    client: httpx.AsyncClient, make_key: KeyMaker, connection: AsyncConnection
) -> None:
    box = await Sandbox.start(client, make_key, "2031-11-20T12:00:00+00:00")
    for n in range(3):
        await box.open_account(ref=f"L-{n}", due_date="2031-11-01")
    await box.set_clock("2031-11-20T13:00:00+00:00")
    candidate = (await current(client, box.auth))["document"]
    candidate["ladder"][0].update(advance_when=[{"dpd_at_least": 1}], dwell_days=0)
    before = await table_counts(connection)
    response = await client.post(
        "/v1/policy/simulate", json={"policy": candidate}, headers=box.auth
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["accounts"] == 3
    assert result["stage_moves"] == [{"from": "reminder", "to": "early", "count": 3}]
    assert len(result["sample"]) == 3
    assert await table_counts(connection) == before
    assert (await box.escalation("L-0"))["stage"] == "reminder"


async def test_decisions_record_the_policy_version(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    box = await Sandbox.start(client, make_key, "2031-11-01T12:00:00+00:00")
    contacts = await box.open_account(due_date="2031-11-01")
    document = (await current(client, box.auth))["document"]
    document["ladder"][0]["dwell_days"] = 0.5
    assert (await client.put("/v1/policy", json=document, headers=box.auth)).json()["version"] == 2
    await box.interact(contacts["self:phone"], "2031-11-01T12:00:00+00:00", outcome="no_answer")
    state = await box.day("2031-11-02")
    assert state["stage"] == "early"
    assert state["history"][-1]["policy_version"] == 2
    audit = (await client.get("/v1/accounts/L-1/audit", headers=box.auth)).json()["items"]
    staged = [entry for entry in audit if entry["action"] == "account.stage_changed"]
    assert [entry["policy_version"] for entry in staged] == [2]
