"""The "Bad input" matrix over every write endpoint.

Each case sends one defect to a valid request: the answer is a 4xx application/problem+json
(`errors` naming the field for a 422), never a traceback, and the database is unchanged.
"""

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import KeyMaker, bearer, table_counts
from tests.dialer.helpers import Dialer
from tests.factories import account_body, contact_body, interaction_body

REF = "L-1"
URLS = {
    "put": ("PUT", "/v1/accounts/{ref}"),
    "patch": ("PATCH", "/v1/accounts/{ref}"),
    "contact": ("POST", "/v1/accounts/{ref}/contacts"),
    "contact_patch": ("PATCH", "/v1/accounts/{ref}/contacts/{contact_id}"),
    "interaction": ("POST", "/v1/accounts/{ref}/interactions"),
    "promise": ("POST", "/v1/accounts/{ref}/interactions"),
    "claim": ("POST", "/v1/dialer/claims"),
    "webhook": ("POST", "/v1/webhooks"),
}
DROP = object()  # the field is left out
BIG = "x" * 10_240
NEW_UUID = "5b1e0c2a-7d3f-4e8a-9c61-2f4b8d0e9a17"  # fixed, so test ids are stable
PROMISE = {"amount": 10_000, "due_date": "2026-12-05"}


def base_body(endpoint: str, contact_id: str) -> Any:
    """A valid body for each endpoint; every case below breaks exactly one thing in it."""
    return {
        "put": lambda: account_body(),
        "patch": lambda: {},
        "contact": lambda: contact_body(),
        "contact_patch": lambda: {},
        "interaction": lambda: interaction_body(contact_id),
        "promise": lambda: interaction_body(
            contact_id, outcome="promise_to_pay", promise=dict(PROMISE)
        ),
        "claim": lambda: {
            "limit": 10,
            "lease_seconds": 300,
            "agent": "agent-7",
            "filter": {"tiers": ["A"], "stages": ["early"], "partner": "agency-x"},
        },
        "webhook": lambda: {"url": "https://93.184.215.14/hooks", "events": ["promise.kept"]},
    }[endpoint]()


def _label(value: Any) -> str:
    if value is DROP:
        return "<missing>"
    if value is BIG:
        return "<10kB>"
    text = json.dumps(value)
    return text if len(text) <= 24 else text[:21] + "..."


def case(
    endpoint: str, path: str, value: Any, *, loc: list[Any] | None = None, status: int = 422
) -> Any:
    """`path` is dotted ("contacts.0.value"); the problem's loc defaults to ["body", *path]."""
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    return pytest.param(
        endpoint,
        keys,
        value,
        loc if loc is not None else ["body", *keys],
        status,
        id=f"{endpoint}:{path}={_label(value)}",
    )


FIELD_CASES = [
    # -- PUT /v1/accounts/{ref} ---------------------------------------------------------
    case("put", "principal", "500000"),
    case("put", "principal", True),
    case("put", "principal", 10**20),
    case("put", "balance", -1),
    case("put", "balance", 10.5),
    case("put", "balance", 1e20),
    case("put", "debtor.name", 123),
    case("put", "debtor", "Li Wei"),
    case("put", "contacts", {"kind": "phone"}),
    case("put", "jurisdiction", "mars"),
    case("put", "contacts.0.kind", "fax"),
    case("put", "contacts.0.relationship", "enemy"),
    case("put", "debtor", DROP),
    case("put", "currency", DROP),
    case("put", "balance", DROP),
    case("put", "contacts.0.value", DROP),
    case("put", "debtor.name", ""),
    case("put", "debtor.name", "   "),
    case("put", "product", ""),
    case("put", "contacts.0.value", ""),
    case("put", "debtor.name", BIG),
    case("put", "partner", BIG),
    case("put", "contacts.0.value", BIG),
    case("put", "contacts.1.label", BIG),
    case("put", "currency", "XYZ"),
    case("put", "currency", "usd"),
    case("put", "currency", "USD"),  # a real code, but the account is in CNY
    case("put", "due_date", "2026-02-30"),
    case("put", "due_date", "2026-13-01"),
    case("put", "due_date", "yesterday"),
    case("put", "debtor.timezone", "Mars/Olympus"),
    case("put", "debtor.timezone", ""),
    case("put", "debtor.timezone", "UTC+8"),
    case("put", "contacts.0.timezone", "Mars/Olympus"),
    case("put", "debtor.locale", "!!"),
    case("put", "contacts.0.value", "not a phone"),
    case("put", "colour", "red"),
    case("put", "contacts.0.priority", 1),
    # -- PATCH /v1/accounts/{ref} -------------------------------------------------------
    case("patch", "assignee", 123),
    case("patch", "assignee", ["agent-7"]),
    case("patch", "assignee", ""),
    case("patch", "assignee", BIG),
    case("patch", "partner", BIG),
    case("patch", "jurisdiction", "mars"),
    case("patch", "jurisdiction", None),
    case("patch", "debtor", "Asia/Shanghai"),
    case("patch", "debtor.timezone", "Mars/Olympus"),
    case("patch", "debtor.timezone", ""),
    case("patch", "debtor.timezone", "UTC+8"),
    case("patch", "debtor.name", "Someone Else"),
    case("patch", "status", "closed"),
    # -- POST /v1/accounts/{ref}/contacts -----------------------------------------------
    case("contact", "kind", "fax"),
    case("contact", "relationship", "enemy"),
    case("contact", "relationship", None),
    case("contact", "status", "lost"),
    case("contact", "kind", DROP),
    case("contact", "value", DROP),
    case("contact", "value", ""),
    case("contact", "value", BIG),
    case("contact", "value", 13900002222),
    case("contact", "value", "not a phone"),
    case("contact", "kind", "email", loc=["body", "value"]),  # a phone number is no e-mail
    case("contact", "label", ""),
    case("contact", "label", BIG),
    case("contact", "timezone", "Mars/Olympus"),
    case("contact", "timezone", "UTC+8"),
    case("contact", "priority", 1),
    # -- PATCH /v1/accounts/{ref}/contacts/{id} -----------------------------------------
    case("contact_patch", "relationship", "enemy"),
    case("contact_patch", "relationship", None),
    case("contact_patch", "status", "lost"),
    case("contact_patch", "status", None),
    case("contact_patch", "label", ""),
    case("contact_patch", "label", BIG),
    case("contact_patch", "timezone", "Mars/Olympus"),
    case("contact_patch", "timezone", "UTC+8"),
    case("contact_patch", "value", "+86 139 0000 9999"),
    # -- POST /v1/webhooks ---------------------------------------------------------------
    case("webhook", "url", DROP),
    case("webhook", "url", "ftp://93.184.215.14/hooks"),
    case("webhook", "url", "https:///no-host"),
    case("webhook", "url", "http://127.0.0.1:8080/hooks"),
    case("webhook", "url", "http://192.168.1.10/hooks"),
    case("webhook", "url", "http://169.254.169.254/latest"),
    case("webhook", "url", "http://[::ffff:10.0.0.1]/hooks"),
    case("webhook", "url", BIG),
    case("webhook", "events", DROP),
    case("webhook", "events", []),
    case("webhook", "events", ["account.opened"], loc=["body", "events", 0]),
    case("webhook", "events", ["promise.kept", "promise.kept"]),
    case("webhook", "events", "promise.kept"),
    case("webhook", "secret", "not-whsec"),
    case("webhook", "secret", "whsec_!!!"),
    case("webhook", "secret", "whsec_c2hvcnQ="),
    case("webhook", "extra", 1),
    # -- POST /v1/accounts/{ref}/interactions -------------------------------------------
    case("interaction", "contact_id", NEW_UUID),
    case("interaction", "contact_id", "not-a-uuid"),
    case("interaction", "contact_id", DROP),
    case("interaction", "channel", "pigeon"),
    case("interaction", "direction", "sideways"),
    case("interaction", "outcome", "ghosted"),
    case("interaction", "reason_code", "bored"),
    case("interaction", "occurred_at", DROP),
    case("interaction", "outcome", DROP),
    case("interaction", "occurred_at", "2026-11-20T10:00:00"),
    case("interaction", "occurred_at", "2026-02-30T10:00:00+08:00"),
    case("interaction", "occurred_at", "2026-13-01T10:00:00Z"),
    case("interaction", "occurred_at", "yesterday"),
    case("interaction", "occurred_at", 1763604000),
    case("interaction", "occurred_at", "2099-01-01T00:00:00Z"),
    case("interaction", "callback_at", "2026-11-21T10:00:00"),
    case("interaction", "notes", BIG),
    case("interaction", "id", "not-a-uuid"),
    case("interaction", "promise", PROMISE),  # only promise_to_pay carries a promise
    case("interaction", "outcome", "promise_to_pay", loc=["body", "promise"]),
    case("interaction", "surprise", True),
    case("promise", "promise.amount", -1),
    case("promise", "promise.amount", 0),
    case("promise", "promise.amount", 10.5),
    case("promise", "promise.amount", 1e20),
    case("promise", "promise.amount", True),
    case("promise", "promise.amount", DROP),
    case("promise", "promise.due_date", "2026-02-30"),
    case("promise", "promise.due_date", "yesterday"),
    case("promise", "promise", []),
    case("promise", "promise.currency", "USD"),
    # -- POST /v1/dialer/claims ---------------------------------------------------------
    case("claim", "limit", 0),
    case("claim", "limit", 101),
    case("claim", "limit", "10"),
    case("claim", "limit", DROP),
    case("claim", "lease_seconds", 29),
    case("claim", "lease_seconds", 3601),
    case("claim", "lease_seconds", 60.5),
    case("claim", "lease_seconds", DROP),
    case("claim", "agent", ""),
    case("claim", "agent", BIG),
    case("claim", "filter.tiers.0", "D"),
    case("claim", "filter.tiers.0", "a"),
    case("claim", "filter.stages.0", "collections"),
    case("claim", "filter.stages.0", None),
    case("claim", "filter.partner", BIG),
    case("claim", "filter.colour", "red"),
    case("claim", "filter", "all"),
]

JSON = {"Content-Type": "application/json"}
OVERSIZED = json.dumps({"notes": "x" * (300 * 1024)}).encode()
# (id, raw content, headers, expected status); `None` content means the valid body itself.
RAW_CASES = [
    ("malformed-json", b'{"debtor": {"name": ', JSON, 422),
    ("json-array", b"[{}]", JSON, 422),
    ("json-string", b'"hello"', JSON, 422),
    ("json-null", b"null", JSON, 422),
    ("empty-body", b"", JSON, 422),
    ("oversized-body", OVERSIZED, JSON, 413),
    ("text-plain", None, {"Content-Type": "text/plain"}, 415),
    ("no-content-type", None, {}, 415),
]
WRITE_ENDPOINTS = [
    "put",
    "patch",
    "contact",
    "contact_patch",
    "interaction",
    "claim",
    "webhook",
]


@dataclass
class World:
    auth: dict[str, str]
    contact_id: str


@pytest.fixture
async def world(client: httpx.AsyncClient, make_key: KeyMaker) -> World:
    auth = bearer(await make_key())
    created = await client.put(f"/v1/accounts/{REF}", json=account_body(), headers=auth)
    assert created.status_code == 201, created.text
    contacts = (await client.get(f"/v1/accounts/{REF}/contacts", headers=auth)).json()["items"]
    own = next(c for c in contacts if c["value"] == "+8613812345678")
    return World(auth=auth, contact_id=own["id"])


def url(endpoint: str, world: World, ref: str = REF, contact_id: str | None = None) -> str:
    return URLS[endpoint][1].format(ref=ref, contact_id=contact_id or world.contact_id)


def mutate(body: Any, keys: list[Any], value: Any) -> Any:
    """Set (or with DROP, remove) the field at `keys`, creating parent objects as needed."""
    target = body
    for key in keys[:-1]:
        if isinstance(target, dict) and key not in target:
            target[key] = {}
        target = target[key]
    if value is DROP:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return body


async def views(client: httpx.AsyncClient, world: World) -> list[Any]:
    """What a client can read about the account: unchanged by any rejected write."""
    paths = ["", "/contacts", "/interactions", "/audit"]
    return [
        (await client.get(f"/v1/accounts/{REF}{path}", headers=world.auth)).json() for path in paths
    ]


def assert_problem(response: httpx.Response, status: int, loc: list[Any] | None) -> None:
    assert response.status_code == status, response.text[:2000]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in response.text and 'File "' not in response.text
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys(), problem
    assert problem["status"] == status
    assert all(isinstance(problem[k], str) and problem[k] for k in ("type", "title", "detail"))
    if status == 422:
        errors = problem.get("errors")
        assert isinstance(errors, list) and errors, problem
        assert all(isinstance(e.get("msg"), str) and e["msg"] for e in errors), errors
        if loc is not None:
            assert loc in [e["loc"] for e in errors], errors


async def send_rejected(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    world: World,
    endpoint: str,
    *,
    status: int,
    loc: list[Any] | None,
    **request: Any,
) -> None:
    """Send one bad request; it must be refused and leave the database as it was."""
    before, seen = await table_counts(connection), await views(client, world)
    method = URLS[endpoint][0]
    request.setdefault("url", url(endpoint, world))
    headers = {**world.auth, **request.pop("headers", {})}
    response = await client.request(method, headers=headers, **request)
    assert_problem(response, status, loc)
    assert await table_counts(connection) == before
    assert await views(client, world) == seen


async def test_base_bodies_are_valid(client: httpx.AsyncClient, world: World) -> None:
    """Each case breaks one thing in these bodies, so they must be accepted as they are."""
    for endpoint in URLS:
        body = base_body(endpoint, world.contact_id)
        response = await client.request(
            URLS[endpoint][0], url(endpoint, world), json=body, headers=world.auth
        )
        assert response.status_code < 300, (endpoint, response.text)


@pytest.mark.parametrize(("endpoint", "keys", "value", "loc", "status"), FIELD_CASES)
async def test_bad_field(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    world: World,
    endpoint: str,
    keys: list[Any],
    value: Any,
    loc: list[Any],
    status: int,
) -> None:
    body = mutate(base_body(endpoint, world.contact_id), keys, value)
    await send_rejected(client, connection, world, endpoint, status=status, loc=loc, json=body)


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [pytest.param(*rest, id=name) for name, *rest in RAW_CASES],
)
async def test_bad_body(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    world: World,
    endpoint: str,
    content: bytes | None,
    headers: dict[str, str],
    status: int,
) -> None:
    if content is None:
        content = json.dumps(base_body(endpoint, world.contact_id)).encode()
    loc = ["body"] if status == 422 else None
    await send_rejected(
        client,
        connection,
        world,
        endpoint,
        status=status,
        loc=loc,
        content=content,
        headers=headers,
    )


@pytest.mark.parametrize(
    ("endpoint", "ref", "contact_id", "status", "loc"),
    [
        pytest.param("patch", "NO-SUCH-REF", None, 404, None, id="patch:unknown-account"),
        pytest.param("contact", "NO-SUCH-REF", None, 404, None, id="contact:unknown-account"),
        pytest.param("interaction", "NO-SUCH-REF", None, 404, None, id="interaction:unknown"),
        pytest.param("put", "R" * 101, None, 422, ["path", "account_ref"], id="put:ref-too-long"),
        pytest.param("contact_patch", REF, NEW_UUID, 404, None, id="contact_patch:unknown-id"),
        pytest.param(
            "contact_patch",
            REF,
            "not-a-uuid",
            422,
            ["path", "contact_id"],
            id="contact_patch:not-a-uuid",
        ),
    ],
)
async def test_bad_address(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    world: World,
    endpoint: str,
    ref: str,
    contact_id: str | None,
    status: int,
    loc: list[Any] | None,
) -> None:
    body = base_body(endpoint, world.contact_id)
    if endpoint == "patch":
        body = {"assignee": "agent-7"}
    target = url(endpoint, world, ref=ref, contact_id=contact_id)
    await send_rejected(
        client, connection, world, endpoint, status=status, loc=loc, url=target, json=body
    )


OUTCOME_CASES = [
    pytest.param(
        {"occurred_at": "2026-12-01T01:59:59+00:00"},
        422,
        ["body", "occurred_at"],
        id="before-the-lease",
    ),
    pytest.param(
        {"occurred_at": "2026-12-01T03:00:00+00:00"},
        422,
        ["body", "occurred_at"],
        id="in-the-future",
    ),
    pytest.param(
        {"occurred_at": "2026-12-01T02:01:00"}, 422, ["body", "occurred_at"], id="no-offset"
    ),
    pytest.param({"outcome": "ghosted"}, 422, ["body", "outcome"], id="unknown-outcome"),
    pytest.param({"contact_id": NEW_UUID}, 422, ["body", "contact_id"], id="not-the-tasks-contact"),
    pytest.param({"outcome": "promise_to_pay"}, 422, ["body", "promise"], id="promise-missing"),
    pytest.param({"surprise": True}, 422, ["body", "surprise"], id="unknown-field"),
    pytest.param({"task": NEW_UUID}, 404, None, id="unknown-task"),
    pytest.param({"task": "not-a-uuid"}, 422, ["path", "task_id"], id="task-not-a-uuid"),
]


@pytest.mark.parametrize(("change", "status", "loc"), OUTCOME_CASES)
async def test_bad_outcome(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    make_key: KeyMaker,
    change: dict[str, Any],
    status: int,
    loc: list[Any] | None,
) -> None:
    """A dialer outcome that cannot be right is refused and records nothing."""
    box = await Dialer.start(client, make_key)
    await box.open_account()
    (task,) = await box.claim()
    body = {"occurred_at": "2026-12-01T02:01:00+00:00", "outcome": "no_answer", **change}
    task_id = body.pop("task", task["task_id"])
    before = await table_counts(connection)
    response = await client.post(f"/v1/dialer/tasks/{task_id}/outcome", json=body, headers=box.auth)
    assert_problem(response, status, loc)
    assert await table_counts(connection) == before


WEBHOOK = "/v1/webhooks/{id}"


@pytest.mark.parametrize(
    ("method", "path", "status", "loc"),
    [
        ("DELETE", WEBHOOK.format(id=NEW_UUID), 404, None),
        ("DELETE", WEBHOOK.format(id="not-a-uuid"), 422, ["path", "webhook_id"]),
        ("GET", WEBHOOK.format(id=NEW_UUID) + "/deliveries", 404, None),
        ("GET", WEBHOOK.format(id="nope") + "/deliveries", 422, ["path", "webhook_id"]),
        ("GET", "/v1/webhooks?limit=0", 422, ["query", "limit"]),
        ("GET", "/v1/webhooks?cursor=garbage", 422, ["query", "cursor"]),
        ("POST", WEBHOOK.format(id=NEW_UUID) + f"/deliveries/{NEW_UUID}/redeliver", 404, None),
        (
            "POST",
            WEBHOOK.format(id=NEW_UUID) + "/deliveries/nope/redeliver",
            422,
            ["path", "delivery_id"],
        ),
        ("GET", "/v1/reports/promises?from=2026-12-10&to=2026-12-01", 422, ["query", "to"]),
        ("GET", "/v1/reports/roll-rates?from=2025-01-01&to=2026-01-02", 422, ["query", "to"]),
        ("GET", "/v1/reports/contacts?from=12/01/2026", 422, ["query", "from"]),
        ("GET", "/v1/reports/compliance?to=2026-02-30", 422, ["query", "to"]),
    ],
)
async def test_bad_report_and_webhook_requests(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    world: World,
    method: str,
    path: str,
    status: int,
    loc: list[Any] | None,
) -> None:
    before = await table_counts(connection)
    response = await client.request(method, path, headers=world.auth)
    assert_problem(response, status, loc)
    assert await table_counts(connection) == before


ELIGIBILITY = "/v1/accounts/{ref}/contact-eligibility"
# Reads with query parameters: (path, params, loc of the expected 422).
QUERY_CASES = [
    pytest.param(ELIGIBILITY, {"at": "2026-11-20T10:00:00"}, ["query", "at"], id="at:no-offset"),
    pytest.param(ELIGIBILITY, {"at": "yesterday"}, ["query", "at"], id="at:not-a-time"),
    pytest.param(ELIGIBILITY, {"at": "2026-02-30T10:00:00Z"}, ["query", "at"], id="at:no-such-day"),
    pytest.param(ELIGIBILITY, {"at": "2100-01-01T00:00:00Z"}, ["query", "at"], id="at:too-late"),
    pytest.param(ELIGIBILITY, {"at": "2000-01-01T00:00:00Z"}, ["query", "at"], id="at:too-early"),
    pytest.param(ELIGIBILITY, {"at": "9999-12-31T23:59:59Z"}, ["query", "at"], id="at:year-9999"),
    pytest.param(
        ELIGIBILITY, {"lease_seconds": "3601"}, ["query", "lease_seconds"], id="lease:big"
    ),
    pytest.param(ELIGIBILITY, {"lease_seconds": "-1"}, ["query", "lease_seconds"], id="lease:neg"),
    pytest.param(
        ELIGIBILITY, {"lease_seconds": "1.5"}, ["query", "lease_seconds"], id="lease:frac"
    ),
]


@pytest.mark.parametrize(("path", "params", "loc"), QUERY_CASES)
async def test_bad_query(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    world: World,
    path: str,
    params: dict[str, str],
    loc: list[Any],
) -> None:
    before = await table_counts(connection)
    response = await client.get(path.format(ref=REF), params=params, headers=world.auth)
    assert_problem(response, 422, loc)
    assert await table_counts(connection) == before


@pytest.mark.parametrize("accept", ["application/xml", "text/html;q=0", "image/png, */*;q=0"])
@pytest.mark.parametrize(
    "report", ["portfolio", "promises", "roll-rates", "contacts", "compliance"]
)
async def test_unknown_accept_is_406(
    client: httpx.AsyncClient, world: World, report: str, accept: str
) -> None:
    response = await client.get(f"/v1/reports/{report}", headers={**world.auth, "Accept": accept})
    assert_problem(response, 406, None)
