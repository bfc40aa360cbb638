"""The batch's records: stage history, outbox events, follow-ups and audit rows."""

import uuid
from typing import Any

from app.db.bulk import insert_unnest
from app.events.context import BatchContext
from app.events.parse import Incoming
from app.events.projection import AccountRow
from app.logs import request_id_var
from app.models import AuditEntry, FollowUp, OutboxEvent, StageChange
from app.models.events import EventType as T


async def write_history(
    ctx: BatchContext, touched: list[AccountRow], stage: str, tier: str
) -> None:
    """Leaving the ladder keeps the last stage in the history; a new episode starts over.
    Either is also an `account.stage_changed` outbox event (to or from no stage)."""
    rows, outbox = [], []
    for account in touched:
        row: tuple[str | None, str | None, str | None, int, str]
        if account.new_episode and account.status == "delinquent":
            row = (None, stage, tier, account.episode, "new delinquency episode")
        elif account.left_ladder and account.old_stage is not None:
            row = (account.old_stage, None, None, account.episode, f"account {account.status}")
        else:
            continue
        from_stage, to_stage, row_tier, episode, why = row
        assert account.status_key is not None
        rows.append(
            {
                "tenant_id": ctx.tenant_id,
                "account_id": account.id,
                "episode": episode,
                "from_stage": from_stage,
                "to_stage": to_stage,
                "tier": row_tier,
                "trigger": f"event {account.status_key[1]}: {why}"[:200],
                "actor": ctx.principal.actor,
                "policy_version": ctx.policy_version,
                "occurred_at": ctx.now,
            }
        )
        payload = {"account_ref": account.ref, "from": from_stage, "to": to_stage}
        outbox.append(_outbox(ctx, "account.stage_changed", account.id, payload))
    await insert_unnest(ctx.repo.session, StageChange.__table__, rows)  # type: ignore[arg-type]
    await insert_unnest(ctx.repo.session, OutboxEvent.__table__, outbox)  # type: ignore[arg-type]


async def write_outbox_and_follow_ups(
    ctx: BatchContext, accepted: list[Incoming], touched: list[AccountRow]
) -> None:
    outbox: list[dict[str, Any]] = []
    confirmations: dict[int, str] = {}
    for e in accepted:
        if e.type is not T.payment_received:
            continue
        account = ctx.accounts[e.account_ref]
        payload = {
            "account_ref": e.account_ref,
            "event_id": e.id,
            "payment_ref": e.data.payment_ref,
            "amount": e.data.amount,
            "currency": account.currency,
            "occurred_at": e.occurred_at.isoformat(),
        }
        outbox.append(_outbox(ctx, "payment.received", account.id, payload))
        confirmations.setdefault(account.id, e.id)
    for account in touched:
        if account.status == "closed" and account.old_status != "closed":
            assert account.status_key is not None
            at, event_id = account.status_key
            payload = {"account_ref": account.ref, "event_id": event_id}
            payload["closed_at"] = at.isoformat()
            outbox.append(_outbox(ctx, "account.closed", account.id, payload))
    await insert_unnest(ctx.repo.session, OutboxEvent.__table__, outbox)  # type: ignore[arg-type]
    follow_ups = [
        {
            "tenant_id": ctx.tenant_id,
            "id": uuid.uuid4(),
            "account_id": account_id,
            "purpose": "payment_confirmation",
            "due_at": ctx.now,
            "source": f"event:{event_id}"[:200],
        }
        for account_id, event_id in sorted(confirmations.items())
    ]
    await ctx.repo.insert(
        FollowUp.__table__,  # type: ignore[arg-type]
        follow_ups,
        "ON CONFLICT (tenant_id, account_id, purpose) WHERE status = 'open' DO NOTHING",
    )


def _outbox(
    ctx: BatchContext, kind: str, account_id: int, payload: dict[str, Any]
) -> dict[str, Any]:
    return {
        "tenant_id": ctx.tenant_id,
        "type": kind,
        "account_id": account_id,
        "payload": payload,
        "occurred_at": ctx.now,
    }


async def write_audit(ctx: BatchContext, accepted: list[Incoming]) -> None:
    request_id = request_id_var.get()
    rows = [
        {
            "tenant_id": ctx.tenant_id,
            "account_id": ctx.account_id(e),
            "entity": "event",
            "entity_id": e.id,
            "action": e.type.value,
            "actor": ctx.principal.actor,
            "request_id": request_id,
            "policy_version": ctx.policy_version,
            "before": None,
            "after": {
                "account_ref": e.account_ref,
                "occurred_at": e.occurred_at.isoformat(),
                "data": e.raw_data,
            },
            "occurred_at": ctx.now,
        }
        for e in accepted
    ]
    await insert_unnest(ctx.repo.session, AuditEntry.__table__, rows)  # type: ignore[arg-type]
