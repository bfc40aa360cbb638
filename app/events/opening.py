"""Accounts an `account.delinquent` opens, and debtors refreshed from current profiles."""

from datetime import datetime
from typing import Any

from app.accounts.schemas import AccountData
from app.errors import Conflict
from app.events.context import BatchContext
from app.events.parse import Incoming
from app.events.projection import STATUS_OF, AccountRow, project
from app.models.events import EventType
from app.policy.escalation import start_episode


async def open_and_refresh(ctx: BatchContext, by_ref: dict[str, list[Incoming]]) -> None:
    """Create the accounts this batch opens and refresh debtors from current profiles."""
    creating = {
        ref: max((e for e in events if e.type is EventType.account_delinquent), key=lambda e: e.key)
        for ref, events in by_ref.items()
        if ref not in ctx.accounts
    }
    profiles = dict(creating)
    profiles.update(
        {ref: row.profile for ref, row in ctx.accounts.items() if row.profile is not None}
    )
    if not profiles:
        return
    newest: dict[str, Incoming] = {}
    for event in profiles.values():
        ref = event.data.debtor.customer_ref
        if ref not in newest or event.key > newest[ref].key:
            newest[ref] = event
    debtor_ids = await ctx.repo.upsert_debtors(
        [
            {
                "tenant_id": ctx.tenant_id,
                "customer_ref": customer_ref,
                "name": e.data.debtor.name,
                "timezone": e.data.debtor.timezone,
                "locale": e.data.debtor.locale,
                "updated_at": ctx.now,
            }
            for customer_ref, e in sorted(newest.items())
        ]
    )
    for ref, event in profiles.items():
        if ref in ctx.accounts:
            ctx.accounts[ref].debtor_id = debtor_ids[event.data.debtor.customer_ref]
    if not creating:
        return
    rows = [
        _new_account(ctx, ref, event, debtor_ids[event.data.debtor.customer_ref])
        | {"episode_started_at": min(_episode_start(by_ref[ref]) or event.occurred_at, ctx.now)}
        for ref, event in sorted(creating.items())
    ]
    ids = await ctx.repo.insert_accounts(rows)
    if len(ids) != len(rows):  # created meanwhile by PUT /v1/accounts/{ref}
        raise Conflict("An account of this batch was created concurrently; retry the batch.")
    for row in rows:
        account = AccountRow(
            id=ids[row["ref"]],
            ref=row["ref"],
            currency=row["currency"],
            status="delinquent",
            partner=row["partner"],
            jurisdiction=row["jurisdiction"],
            debtor_id=row["debtor_id"],
            principal=row["principal"],
            product=row["product"],
            stage=row["stage"],
            episode=1,
            base_balance=row["base_balance"],
            balance_key=creating[row["ref"]].key,
            due_date=row["due_date"],
            status_key=creating[row["ref"]].key,
            created=True,
            events=by_ref[row["ref"]],
        )
        project(account)
        ctx.accounts[account.ref] = account


def _new_account(ctx: BatchContext, ref: str, event: Incoming, debtor_id: int) -> dict[str, Any]:
    data: AccountData = event.data
    episode = start_episode(ctx.now)
    return {
        "tenant_id": ctx.tenant_id,
        "ref": ref,
        "debtor_id": debtor_id,
        "status": "delinquent",
        "currency": data.currency,
        "principal": data.principal,
        "balance": data.balance,
        "base_balance": data.balance,
        "balance_as_of_at": event.occurred_at,
        "balance_as_of_event": event.id,
        "status_as_of_at": event.occurred_at,
        "status_as_of_event": event.id,
        "due_date": data.due_date,
        "product": data.product,
        "jurisdiction": (
            data.jurisdiction.value if data.jurisdiction else ctx.principal.jurisdiction
        ),
        "partner": data.partner or ctx.principal.partner,
        "stage": episode.stage,
        "stage_entered_at": episode.stage_entered_at,
        "tier": episode.tier,
        "tier_reasons": episode.tier_reasons,
        "episode": 1,
        "updated_at": ctx.now,
    }


def _episode_start(events: list[Incoming]) -> datetime | None:
    """When the account's last run of delinquency among these events began."""
    start = None
    for event in sorted(events, key=lambda e: e.key):
        status = STATUS_OF.get(event.type)
        if status is not None and status != "delinquent":
            start = None
        elif status == "delinquent" and start is None:
            start = event.occurred_at
    return start
