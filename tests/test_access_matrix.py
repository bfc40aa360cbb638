"""Access control over the whole route table, so a new /v1 route cannot skip it.

Every (method, path) under /v1/ is checked for: 401 without a valid key, 403 without its
scope, 404 for another tenant's objects, 404 for another partner's accounts, and masked
personal data in what a partner-bound key reads. tests/test_access_ids.py calls the routes
that name other objects by id with real ids of another tenant's and partner's objects.
"""

import secrets
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from app.auth import prefix_of
from app.config import Settings
from app.main import create_app
from app.tenancy.service import ALL_SCOPES, revoke_key
from tests.conftest import KeyMaker, bearer, table_counts
from tests.dialer.helpers import MORNING
from tests.factories import account_body, contact_body, interaction_body


def v1_routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    """Every (method, path) under /v1/. FastAPI 0.165 keeps included routers lazily in
    `app.routes`, so the routes are read through `iter_route_contexts`, as OpenAPI does."""
    table: dict[tuple[str, str], APIRoute] = {}
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path
        if isinstance(route, APIRoute) and path and path.startswith("/v1/"):
            for method in sorted(context.methods or ()):
                table[method, path] = route
    return table


ROUTES = v1_routes(create_app(Settings()))


def routes(where: Callable[[str, str], bool] = lambda method, path: True) -> list[Any]:
    return [pytest.param(m, p, id=f"{m} {p}") for m, p in sorted(ROUTES) if where(m, p)]


def addressed(method: str, path: str) -> bool:
    return "{account_ref}" in path


def upserts(method: str, path: str) -> bool:
    """PUT /v1/accounts/{ref} creates the caller's own account when the ref is new to it."""
    return method == "PUT" and path.endswith("/{account_ref}")


WRITE_METHODS = {"POST", "PUT", "PATCH"}
# A minimal valid body per write route, so the only thing wrong is access. A route under
# /v1/accounts/{account_ref} that takes a body must be listed (test_other_tenant says so).
BODIES: dict[tuple[str, str], Callable[[str], dict[str, Any]]] = {
    ("PUT", "/v1/accounts/{account_ref}"): lambda _: account_body(
        debtor={"name": "Matrix Person", "locale": "en-US", "customer_ref": "matrix-cust"},
        contacts=[],
    ),
    ("PATCH", "/v1/accounts/{account_ref}"): lambda _: {"assignee": "agent-7"},
    ("POST", "/v1/accounts/{account_ref}/contacts"): lambda _: contact_body(),
    ("PATCH", "/v1/accounts/{account_ref}/contacts/{contact_id}"): lambda _: {"label": "mobile"},
    ("POST", "/v1/accounts/{account_ref}/interactions"): interaction_body,
    ("POST", "/v1/accounts/{account_ref}/escalation/holds"): lambda _: {
        "kind": "manual",
        "note": "matrix",
    },
    ("POST", "/v1/accounts/{account_ref}/escalation/advance"): lambda _: {"reason": "matrix"},
    ("POST", "/v1/events"): lambda _: {"events": []},
    ("POST", "/v1/dialer/claims"): lambda _: {"limit": 1, "lease_seconds": 60},
    ("POST", "/v1/dialer/tasks/{task_id}/outcome"): lambda _: {
        "occurred_at": MORNING,
        "outcome": "no_answer",
    },
    ("POST", "/v1/webhooks"): lambda _: {
        "url": "https://93.184.215.14/hooks",
        "events": ["account.closed"],
    },
}


@dataclass(frozen=True)
class Person:
    name: str
    phone: str
    email: str
    customer_ref: str
    partner: str | None

    @property
    def personal(self) -> list[str]:
        """What a partner-bound key must never read in clear."""
        digits = "".join(ch for ch in self.phone if ch.isdigit())[2:]
        return [*self.name.split(), digits, self.email.split("@")[0]]

    @property
    def markers(self) -> list[str]:
        """What another tenant or partner must never see at all."""
        return [*self.personal, self.customer_ref]


Y, N, X = "ACME-Y-001", "ACME-N-002", "ACME-X-003"
PEOPLE = {
    Y: Person("Wang Fang", "+86 137 1111 2222", "wang.fang@example.com", "cust-wang", "agency-y"),
    N: Person("Chen Jie", "+86 136 3333 4444", "chen.jie@example.com", "cust-chen", None),
    X: Person(
        "Zhang Mingyu", "+86 138 1234 5678", "zhang.mingyu@example.com", "cust-zh", "agency-x"
    ),
}
OTHER_TENANT_REF = "G-1"


@dataclass
class World:
    admin: dict[str, str]  # tenant acme, every scope
    contacts: dict[str, str]  # account ref -> its debtor's own phone contact id


def person_body(person: Person) -> dict[str, Any]:
    return account_body(
        debtor={"name": person.name, "locale": "zh-CN", "customer_ref": person.customer_ref},
        partner=person.partner,
        contacts=[
            {"kind": "phone", "value": person.phone, "relationship": "self"},
            {"kind": "email", "value": person.email, "relationship": "self"},
        ],
    )


async def place(client: httpx.AsyncClient, auth: dict[str, str], ref: str, person: Person) -> str:
    """Create the account with one interaction; return its debtor's phone contact id."""
    created = await client.put(f"/v1/accounts/{ref}", json=person_body(person), headers=auth)
    assert created.status_code == 201, created.text
    items = (await client.get(f"/v1/accounts/{ref}/contacts", headers=auth)).json()["items"]
    contact_id = next(c["id"] for c in items if c["kind"] == "phone")
    body = interaction_body(contact_id, notes=f"Spoke with {person.name}")
    recorded = await client.post(f"/v1/accounts/{ref}/interactions", json=body, headers=auth)
    assert recorded.status_code == 201, recorded.text
    return contact_id


@pytest.fixture
async def world(client: httpx.AsyncClient, make_key: KeyMaker) -> World:
    admin = bearer(await make_key("acme"))
    contacts = {ref: await place(client, admin, ref, person) for ref, person in PEOPLE.items()}
    return World(admin=admin, contacts=contacts)


async def call(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    headers: dict[str, str],
    ref: str,
    contact_id: str,
) -> httpx.Response:
    """The route with real path parameters (any other one a random UUID) and a valid body."""
    params = defaultdict(lambda: str(uuid.uuid4()), account_ref=ref, contact_id=contact_id)
    body = BODIES.get((method, path), lambda _: {})(contact_id)
    payload = {"json": body} if method in WRITE_METHODS else {}
    return await client.request(method, path.format_map(params), headers=headers, **payload)


def assert_problem(response: httpx.Response, status: int, route: str) -> None:
    assert response.status_code == status, (route, response.text[:1000])
    assert response.headers["content-type"].startswith("application/problem+json"), route
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys(), (route, problem)
    assert problem["status"] == status
    assert "Traceback" not in response.text


def assert_no_leak(response: httpx.Response, markers: list[str], route: str) -> None:
    text = response.text.lower()
    leaked = [marker for marker in markers if marker.lower() in text]
    assert not leaked, (route, leaked, response.text[:1000])


async def acme_views(client: httpx.AsyncClient, world: World) -> list[Any]:
    return [
        (await client.get(f"/v1/accounts/{ref}{tail}", headers=world.admin)).json()
        for ref in PEOPLE
        for tail in ("", "/contacts", "/interactions")
    ]


async def test_route_table_is_covered(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The table the tests were generated from is the app's, every route declares scopes."""
    live = v1_routes(create_app(settings, sessionmaker=sessionmaker))
    assert set(live) == set(ROUTES)
    assert len(ROUTES) >= 8, sorted(ROUTES)
    for (method, path), route in live.items():
        scopes = (route.openapi_extra or {}).get("x-required-scopes")
        assert scopes and set(scopes) <= set(ALL_SCOPES), (method, path, scopes)


CREDENTIALS = ["missing", "basic-scheme", "malformed", "unknown-prefix", "wrong-secret", "revoked"]


async def credential(
    kind: str, make_key: KeyMaker, sessionmaker: async_sessionmaker[AsyncSession]
) -> dict[str, str]:
    if kind == "missing":
        return {}
    if kind == "basic-scheme":
        return {"Authorization": "Basic YWRtaW46YWRtaW4="}
    if kind == "malformed":
        return bearer("nope")
    if kind == "unknown-prefix":
        return bearer(f"tf_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}")
    key = await make_key("acme")
    prefix = prefix_of(key)
    assert prefix is not None
    if kind == "wrong-secret":
        return bearer(f"tf_{prefix}_{secrets.token_urlsafe(32)}")
    async with sessionmaker() as session:
        assert await revoke_key(session, prefix)
        await session.commit()
    return bearer(key)


@pytest.mark.parametrize("kind", CREDENTIALS)
@pytest.mark.parametrize(("method", "path"), routes())
async def test_bad_credentials_are_401(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    make_key: KeyMaker,
    sessionmaker: async_sessionmaker[AsyncSession],
    world: World,
    method: str,
    path: str,
    kind: str,
) -> None:
    headers = await credential(kind, make_key, sessionmaker)
    before = await table_counts(connection)
    response = await call(client, method, path, headers, X, world.contacts[X])
    assert_problem(response, 401, f"{method} {path}")
    assert response.headers.get("www-authenticate") == "Bearer"
    assert_no_leak(response, [m for p in PEOPLE.values() for m in p.markers], path)
    assert await table_counts(connection) == before


@pytest.mark.parametrize(("method", "path"), routes())
async def test_missing_scope_is_403(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    make_key: KeyMaker,
    world: World,
    method: str,
    path: str,
) -> None:
    required = (ROUTES[method, path].openapi_extra or {}).get("x-required-scopes") or []
    others = [scope for scope in ALL_SCOPES if scope not in required]
    assert required and others, (method, path, required)
    key = bearer(await make_key("acme", scopes=others))
    before = await table_counts(connection)
    response = await call(client, method, path, key, X, world.contacts[X])
    assert_problem(response, 403, f"{method} {path}")
    assert_no_leak(response, [m for p in PEOPLE.values() for m in p.markers], path)
    assert await table_counts(connection) == before


@pytest.mark.parametrize(("method", "path"), routes())
async def test_other_tenant_sees_nothing(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    make_key: KeyMaker,
    world: World,
    method: str,
    path: str,
) -> None:
    route = f"{method} {path}"
    other = bearer(await make_key("globex"))
    markers = [m for p in PEOPLE.values() for m in p.markers]
    if not addressed(method, path):
        markers += list(PEOPLE)  # the refs themselves, never sent in this request
    elif ROUTES[method, path].body_field is not None:
        assert (method, path) in BODIES, f"add a minimal valid body for {route} to BODIES"
    seen, before = await acme_views(client, world), await table_counts(connection)

    response = await call(client, method, path, other, Y, world.contacts[Y])
    assert_no_leak(response, markers, route)
    if upserts(method, path):
        assert response.status_code == 201, (route, response.text)  # its own, new account
    elif addressed(method, path):
        assert_problem(response, 404, route)
        assert await table_counts(connection) == before
    else:
        assert response.status_code < 500, (route, response.text)
    assert await acme_views(client, world) == seen

    if "{contact_id}" in path:  # tenant A's contact through the caller's own account
        created = await client.put(
            f"/v1/accounts/{OTHER_TENANT_REF}", json=account_body(contacts=[]), headers=other
        )
        assert created.status_code == 201, created.text
        before = await table_counts(connection)
        response = await call(client, method, path, other, OTHER_TENANT_REF, world.contacts[Y])
        assert_problem(response, 404, route)
        assert_no_leak(response, markers, route)
        assert await table_counts(connection) == before
        assert await acme_views(client, world) == seen


@pytest.mark.parametrize(("method", "path"), routes(addressed))
async def test_partner_key_cannot_reach_other_placements(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    make_key: KeyMaker,
    world: World,
    method: str,
    path: str,
) -> None:
    partner = bearer(await make_key("acme", partner="agency-x"))
    seen = await acme_views(client, world)
    for ref in (Y, N):  # placed with agency-y, and placed with nobody
        route = f"{method} {path} on {ref}"
        before = await table_counts(connection)
        response = await call(client, method, path, partner, ref, world.contacts[ref])
        assert_problem(response, 404, route)
        assert_no_leak(response, PEOPLE[ref].markers, route)
        assert await table_counts(connection) == before
    assert await acme_views(client, world) == seen


@pytest.mark.parametrize(("method", "path"), routes(lambda method, path: method == "GET"))
async def test_partner_key_reads_its_placements_masked(
    client: httpx.AsyncClient, make_key: KeyMaker, world: World, method: str, path: str
) -> None:
    partner = bearer(await make_key("acme", partner="agency-x"))
    response = await call(client, method, path, partner, X, world.contacts[X])
    route = f"{method} {path}"
    account_route = path.startswith("/v1/accounts")
    if account_route and set(ROUTES[method, path].param_convertors) <= {
        "account_ref",
        "contact_id",
    }:
        assert response.status_code == 200, (route, response.text)
    else:
        assert response.status_code < 500, (route, response.text)
    others = [m for ref in (Y, N) for m in [ref, *PEOPLE[ref].markers]]
    assert_no_leak(response, PEOPLE[X].personal + others, route)


async def test_partner_masking_looks_right(
    client: httpx.AsyncClient, make_key: KeyMaker, world: World
) -> None:
    partner = bearer(await make_key("acme", partner="agency-x"))
    listed = (await client.get("/v1/accounts", headers=partner)).json()["items"]
    assert [a["ref"] for a in listed] == [X]

    account = (await client.get(f"/v1/accounts/{X}", headers=partner)).json()
    assert account["debtor"]["name"] != PEOPLE[X].name
    assert account["debtor"]["customer_ref"] == PEOPLE[X].customer_ref
    assert listed[0]["debtor"] == account["debtor"]

    contacts = (await client.get(f"/v1/accounts/{X}/contacts", headers=partner)).json()["items"]
    values = {c["kind"]: c["value"] for c in contacts}
    assert values["phone"] == "+86 138****5678"
    assert values["email"] != PEOPLE[X].email and values["email"].endswith("@example.com")
    assert "zhang" not in values["email"].lower() and "*" in values["email"]

    items = (await client.get(f"/v1/accounts/{X}/interactions", headers=partner)).json()["items"]
    assert items and all("Zhang" not in (i["notes"] or "") for i in items)

    # The same reads with an unbound key are in clear, so the masking is the partner's.
    clear = (await client.get(f"/v1/accounts/{X}", headers=world.admin)).json()
    assert clear["debtor"]["name"] == PEOPLE[X].name
