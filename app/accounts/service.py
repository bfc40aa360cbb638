"""Account use cases: read, list, create-or-refresh (PUT and `account.delinquent`), patch."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.repository import AccountFilters, AccountRepository
from app.accounts.schemas import AccountData, AccountOut, AccountPatch
from app.accounts.views import account_out, account_snapshot
from app.audit.service import audit
from app.auth import Principal
from app.contacts.normalise import normalise_contact_value
from app.contacts.repository import ContactRepository
from app.errors import Conflict, NotFound, invalid
from app.evaluation.context import Actor
from app.evaluation.service import reevaluate
from app.http.pagination import Page, decode_cursor, encode_cursor
from app.logs import request_id_var
from app.models import Account
from app.policy.escalation import start_episode
from app.reports.history import record_history


async def load_account(
    session: AsyncSession, principal: Principal, ref: str, *, for_update: bool = False
) -> Account:
    """The caller's account by ref; 404 for other tenants' and other partners' accounts."""
    account = await AccountRepository(session).by_ref(
        principal.tenant_id, ref, partner=principal.partner, for_update=for_update
    )
    if account is None:
        raise NotFound(f"No account {ref!r}.")
    return account


async def render(
    session: AsyncSession, principal: Principal, accounts: list[Account]
) -> list[AccountOut]:
    repo = AccountRepository(session)
    debtors = await repo.debtors(principal.tenant_id, {a.debtor_id for a in accounts})
    holds = await repo.active_holds(
        principal.tenant_id, {a.id for a in accounts}, principal.clock.now()
    )
    today = principal.clock.today()
    masked = principal.partner is not None
    return [
        account_out(a, debtors[a.debtor_id], holds[a.id], today, masked=masked) for a in accounts
    ]


async def read_account(session: AsyncSession, principal: Principal, ref: str) -> AccountOut:
    account = await load_account(session, principal, ref)
    return (await render(session, principal, [account]))[0]


async def list_accounts(
    session: AsyncSession,
    principal: Principal,
    filters: AccountFilters,
    cursor: str | None,
    limit: int,
) -> Page[AccountOut]:
    after = decode_cursor(cursor, 1)
    after_id = after[0] if after else None
    if after_id is not None and not isinstance(after_id, int):
        raise invalid(("query", "cursor"), "not a cursor this endpoint issued")
    accounts = await AccountRepository(session).page(
        principal.tenant_id,
        filters,
        partner_scope=principal.partner,
        today=principal.clock.today(),
        after_id=after_id,
        limit=limit + 1,
    )
    has_more = len(accounts) > limit
    accounts = accounts[:limit]
    next_cursor = encode_cursor(accounts[-1].id) if has_more else None
    return Page(items=await render(session, principal, accounts), next_cursor=next_cursor)


def _contact_seeds(data: AccountData, jurisdiction: str) -> list[dict[str, Any]]:
    seeds: dict[tuple[str, str], dict[str, Any]] = {}
    for index, seed in enumerate(data.contacts):
        try:
            value = normalise_contact_value(seed.kind, seed.value, jurisdiction)
        except ValueError as exc:
            raise invalid(("body", "contacts", index, "value"), str(exc)) from exc
        seeds[(seed.kind, value)] = {
            "kind": seed.kind.value,
            "value": value,
            "relationship": seed.relationship.value,
            "label": seed.label,
            "timezone": seed.timezone,
        }
    return list(seeds.values())


async def upsert_account(
    session: AsyncSession, principal: Principal, ref: str, data: AccountData
) -> tuple[AccountOut, bool]:
    """Create (True) or refresh (False) an account, its debtor and contacts."""
    if principal.partner is not None and data.partner not in (None, principal.partner):
        raise invalid(("body", "partner"), "a partner key can only place its own accounts")
    repo = AccountRepository(session)
    now = principal.clock.now()
    existing = await repo.by_ref(principal.tenant_id, ref, partner=None, for_update=True)
    if existing is not None and principal.partner not in (None, existing.partner):
        raise NotFound(f"No account {ref!r}.")
    if principal.partner is not None and await repo.debtor_placed_elsewhere(
        principal.tenant_id, data.debtor.customer_ref, principal.partner
    ):
        raise invalid(
            ("body", "debtor", "customer_ref"), "this debtor is held by another placement"
        )
    debtor = await repo.upsert_debtor(
        principal.tenant_id,
        {**data.debtor.model_dump(), "updated_at": now},
    )
    jurisdiction = (
        data.jurisdiction.value
        if data.jurisdiction is not None
        else (existing.jurisdiction if existing is not None else principal.jurisdiction)
    )
    fields: dict[str, Any] = {
        "debtor_id": debtor.id,
        "principal": data.principal,
        "balance": data.balance,
        "due_date": data.due_date,
        "product": data.product,
        "jurisdiction": jurisdiction,
        "updated_at": now,
        # A PUT is a balance-setting and status event keyed "now" (app/events/projection.py).
        "base_balance": data.balance,
        "balance_as_of_at": now,
        "balance_as_of_event": "",
        "status_as_of_at": now,
        "status_as_of_event": "",
    }
    partner = data.partner or principal.partner
    if partner is not None:
        fields["partner"] = partner
    created = False
    if existing is None:
        episode = start_episode(now)
        created = await repo.insert_account_if_absent(
            {
                "tenant_id": principal.tenant_id,
                "ref": ref,
                "status": "delinquent",
                "currency": data.currency,
                "stage": episode.stage,
                "stage_entered_at": episode.stage_entered_at,
                "tier": episode.tier,
                "tier_reasons": episode.tier_reasons,
                "episode": 1,
                "episode_started_at": now,
                **fields,
            }
        )
        existing = await repo.by_ref(principal.tenant_id, ref, partner=None, for_update=True)
        assert existing is not None
        if not created and principal.partner not in (None, existing.partner):
            raise NotFound(f"No account {ref!r}.")  # a concurrent creator placed it elsewhere
    account = existing
    before = None if created else account_snapshot(account)
    if not created:
        _refresh(account, data, fields, now)
    await session.flush()
    await ContactRepository(session).upsert_many(
        principal.tenant_id, account.id, _contact_seeds(data, jurisdiction), now
    )
    audit(
        session,
        principal,
        entity="account",
        entity_id=ref,
        action="account.created" if created else "account.refreshed",
        account_id=account.id,
        before=before,
        after=account_snapshot(account),
    )
    await session.flush()
    await reevaluate(session, Actor.of(principal, request_id_var.get()), [account.id])
    return (await render(session, principal, [account]))[0], created


def _refresh(account: Account, data: AccountData, fields: dict[str, Any], now: Any) -> None:
    if data.currency != account.currency:
        raise invalid(("body", "currency"), "an account's currency cannot change")
    if account.status in ("closed", "charged_off"):
        raise Conflict(f"Account {account.ref!r} is {account.status}; it cannot be refreshed.")
    if account.status == "cured":
        episode = start_episode(now)
        account.status = "delinquent"
        account.episode += 1
        account.episode_started_at = now
        account.stage = episode.stage
        account.stage_entered_at = episode.stage_entered_at
        account.tier = episode.tier
        account.tier_reasons = episode.tier_reasons
        account.reason_code = account.reason_verification = None
    for key, value in fields.items():
        setattr(account, key, value)


async def patch_account(
    session: AsyncSession, principal: Principal, ref: str, patch: AccountPatch
) -> AccountOut:
    account = await load_account(session, principal, ref, for_update=True)
    before = account_snapshot(account)
    sent = patch.model_fields_set
    if "jurisdiction" in sent:
        if patch.jurisdiction is None:
            raise invalid(("body", "jurisdiction"), "an account always has a jurisdiction")
        account.jurisdiction = patch.jurisdiction.value
    if "assignee" in sent:
        account.assignee = patch.assignee
    if "partner" in sent:
        if principal.partner is not None and patch.partner != principal.partner:
            raise invalid(("body", "partner"), "a partner key cannot move accounts")
        account.partner = patch.partner
    debtor_before = None
    if patch.debtor is not None and "timezone" in patch.debtor.model_fields_set:
        repo = AccountRepository(session)
        debtor = (await repo.debtors(principal.tenant_id, {account.debtor_id}))[account.debtor_id]
        if principal.partner is not None and await repo.debtor_placed_elsewhere(
            principal.tenant_id, debtor.customer_ref, principal.partner
        ):
            raise invalid(("body", "debtor"), "this debtor is held by another placement")
        debtor_before = {"timezone": debtor.timezone}
        debtor.timezone = patch.debtor.timezone
    account.updated_at = principal.clock.now()
    after = account_snapshot(account)
    if debtor_before is not None:
        before["debtor"] = debtor_before
        after["debtor"] = {"timezone": patch.debtor.timezone if patch.debtor else None}
    audit(
        session,
        principal,
        entity="account",
        entity_id=ref,
        action="account.patched",
        account_id=account.id,
        before=before,
        after=after,
    )
    await session.flush()
    if after["partner"] != before["partner"]:
        # The history is otherwise brought up to date by the next day's sweep.
        await record_history(session, principal.tenant_id, [account.id], principal.clock.now())
    return (await render(session, principal, [account]))[0]
