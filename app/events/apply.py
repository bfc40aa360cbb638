"""Apply a batch of accepted events in sets: store them, create or refresh accounts, then
contacts, payments, holds and stops, the account projection, history, outbox, follow-ups and
audit, one statement per table; then one re-evaluation of every touched account."""

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Principal
from app.db.bulk import insert_unnest
from app.errors import Conflict
from app.evaluation.context import Actor
from app.evaluation.service import reevaluate
from app.events.context import BatchContext, Seed
from app.events.opening import open_and_refresh
from app.events.parse import Incoming
from app.events.projection import STATUS_OF, AccountRow, project, recount_episode
from app.events.records import write_audit, write_history, write_outbox_and_follow_ups
from app.events.repository import EventRepository
from app.logs import request_id_var
from app.models import Hold, Payment
from app.models.events import EventType as T
from app.policy.escalation import start_episode


async def apply_batch(
    session: AsyncSession,
    principal: Principal,
    policy_version: int,
    accepted: list[Incoming],
    locked: dict[str, AccountRow],
    seeds: dict[str, list[Seed]],
) -> None:
    now = principal.clock.now()
    ctx = BatchContext(
        EventRepository(session, principal.tenant_id), principal, now, policy_version, {}
    )
    await _store(ctx, accepted)
    by_ref: dict[str, list[Incoming]] = defaultdict(list)
    for event in accepted:
        by_ref[event.account_ref].append(event)
    for ref, events in by_ref.items():
        if ref in locked:
            locked[ref].events = events
            project(locked[ref])
            ctx.accounts[ref] = locked[ref]
    await open_and_refresh(ctx, by_ref)
    await _recount_episodes(ctx, by_ref)
    await _contacts(ctx, accepted, seeds)
    await _payments(ctx, accepted)
    await _holds(ctx, accepted)
    await _stops(ctx, accepted)
    touched = sorted(ctx.accounts.values(), key=lambda a: a.id)
    episode = start_episode(now)
    await ctx.repo.write_accounts(
        touched,
        now,
        {"stage": episode.stage, "tier": episode.tier, "tier_reasons": episode.tier_reasons},
    )
    await write_history(ctx, touched, episode.stage, episode.tier)
    await write_outbox_and_follow_ups(ctx, accepted, touched)
    await write_audit(ctx, accepted)
    await reevaluate(session, Actor.of(principal, request_id_var.get()), [a.id for a in touched])


async def _recount_episodes(ctx: BatchContext, by_ref: dict[str, list[Incoming]]) -> None:
    """Episodes follow the status events' order, not their arrival (the batch is stored)."""
    refs = sorted(
        ref
        for ref, events in by_ref.items()
        if ref in ctx.accounts and any(e.type in STATUS_OF for e in events)
    )
    for ref, history in (await ctx.repo.status_history(refs)).items():
        recount_episode(ctx.accounts[ref], history, ctx.now)


async def _store(ctx: BatchContext, accepted: list[Incoming]) -> None:
    rows = [
        {
            "tenant_id": ctx.tenant_id,
            "id": e.id,
            "type": e.type.value,
            "account_ref": e.account_ref,
            "occurred_at": e.occurred_at,
            "data": e.raw_data,
            "content_digest": e.digest,
        }
        for e in accepted
    ]
    if len(await ctx.repo.insert_events(rows)) != len(rows):
        raise Conflict("A concurrent request stored some of these events; retry the batch.")


async def _contacts(
    ctx: BatchContext, accepted: list[Incoming], seeds: dict[str, list[Seed]]
) -> None:
    """Upsert by (account, kind, value), the newest event winning; statuses set explicitly
    by `contact.upserted` never reactivate a contact."""
    newest: dict[tuple[int, str, str], tuple[Incoming, Seed]] = {}
    for event in sorted(accepted, key=lambda e: e.key):
        for seed in seeds.get(event.id, ()):
            newest[(ctx.account_id(event), seed.kind, seed.value)] = (event, seed)
    if not newest:
        return
    rows = [
        {
            "tenant_id": ctx.tenant_id,
            "id": uuid.uuid4(),
            "account_id": account_id,
            "kind": kind,
            "value": value,
            "relationship": seed.relationship,
            "label": seed.label,
            "status": seed.status or "active",
            "timezone": seed.timezone,
            "updated_at": ctx.now,
        }
        for (account_id, kind, value), (_, seed) in sorted(newest.items())
    ]
    await ctx.repo.upsert_contacts(rows)
    await ctx.repo.set_contact_status(
        [(key[0], key[1], key[2], seed.status) for key, (_, seed) in newest.items() if seed.status]
    )


async def _payments(ctx: BatchContext, accepted: list[Incoming]) -> None:
    rows = [
        {
            "tenant_id": ctx.tenant_id,
            "id": uuid.uuid4(),
            "account_id": ctx.account_id(e),
            "payment_ref": e.data.payment_ref,
            "amount": e.data.amount,
            "occurred_at": e.occurred_at,
            "source_event_id": e.id,
        }
        for e in accepted
        if e.type is T.payment_received
    ]
    await ctx.repo.insert(
        Payment.__table__,  # type: ignore[arg-type]
        rows,
        "ON CONFLICT (tenant_id, account_id, payment_ref) DO NOTHING",
    )
    reversed_at: dict[tuple[int, str], datetime] = {}
    for e in accepted:
        if e.type is T.payment_reversed:
            key = (ctx.account_id(e), e.data.payment_ref)
            reversed_at[key] = min(reversed_at.get(key, e.occurred_at), e.occurred_at)
    await ctx.repo.reverse_payments([(k[0], k[1], at) for k, at in sorted(reversed_at.items())])


async def _holds(ctx: BatchContext, accepted: list[Incoming]) -> None:
    """A hold per `hardship.declared` (until its `until`); the dispute hold follows the
    account's latest dispute event, whatever order the dispute events arrived in."""
    rows = [
        _hold(ctx, ctx.account_id(e), "disaster" if e.data.kind == "disaster" else "hardship",
              e.data.until, e.data.kind, e.id)
        for e in accepted
        if e.type is T.hardship_declared and e.data.until > ctx.now
    ]  # fmt: skip
    disputed = sorted(
        {e.account_ref for e in accepted if e.type in (T.dispute_opened, T.dispute_resolved)}
    )
    lifted: list[Any] = []
    if disputed:
        latest = await ctx.repo.latest_dispute_events(disputed)
        held = await ctx.repo.event_dispute_holds([ctx.accounts[ref].id for ref in disputed])
        for ref in disputed:
            account_id = ctx.accounts[ref].id
            kind, event_id, reason = latest[ref]
            current = held.get(account_id, [])
            opened = kind == T.dispute_opened.value
            if opened and [source for _, source in current] == [event_id]:
                continue
            lifted.extend(hold_id for hold_id, _ in current)
            if opened:
                rows.append(_hold(ctx, account_id, "dispute", None, reason, event_id))
    await ctx.repo.lift_holds(lifted, ctx.now)
    await insert_unnest(ctx.repo.session, Hold.__table__, rows)  # type: ignore[arg-type]


def _hold(
    ctx: BatchContext,
    account_id: int,
    kind: str,
    until: datetime | None,
    note: str | None,
    event_id: str,
) -> dict[str, Any]:
    return {
        "tenant_id": ctx.tenant_id,
        "id": uuid.uuid4(),
        "account_id": account_id,
        "kind": kind,
        "until": until,
        "note": note,
        "source_event_id": event_id,
        "created_at": ctx.now,
    }


async def _stops(ctx: BatchContext, accepted: list[Incoming]) -> None:
    """Bankruptcy and death stop every account of the debtor, from the earliest report."""
    stops: dict[int, list[datetime | None]] = {}
    for e in accepted:
        column = {T.debtor_bankruptcy: 0, T.debtor_deceased: 1}.get(e.type)
        if column is None:
            continue
        found = stops.setdefault(ctx.accounts[e.account_ref].debtor_id, [None, None])
        at = found[column]
        found[column] = e.occurred_at if at is None else min(at, e.occurred_at)
    await ctx.repo.add_stops([(debtor, at[0], at[1]) for debtor, at in stops.items()])
