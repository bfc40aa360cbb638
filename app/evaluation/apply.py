"""Persist evaluations in sets: account state, promise outcomes, stage history, audit rows
and outbox events, all in the caller's transaction."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.bulk import insert_unnest
from app.dialer.generation import SinceComputed, refresh_after_evaluation, sync_tasks
from app.evaluation.context import Actor
from app.evaluation.loader import AccountState
from app.evaluation.writes import json_of, record_schedule, update_accounts
from app.models import AuditEntry, FollowUp, OutboxEvent, StageChange
from app.policy.facts import Evaluation
from app.reports.history import record_history

FINAL_PROMISE_STATUSES = {"kept", "broken"}


@dataclass(slots=True)
class _Writes:
    accounts: list[dict[str, Any]] = field(default_factory=list)
    promises: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    schedule: list[tuple[int, datetime | None]] = field(default_factory=list)


def _event(
    actor: Actor, now: datetime, state: AccountState, kind: str, **data: Any
) -> dict[str, Any]:
    return {
        "tenant_id": actor.tenant_id,
        "type": kind,
        "account_id": state.id,
        "payload": {"account_ref": state.ref, **data},
        "occurred_at": now,
    }


def _audit(
    actor: Actor,
    now: datetime,
    state: AccountState,
    action: str,
    version: int,
    before: dict[str, Any],
    after: dict[str, Any],
    entity: str = "account",
    entity_id: str | None = None,
) -> dict[str, Any]:
    return {
        "tenant_id": actor.tenant_id,
        "account_id": state.id,
        "entity": entity,
        "entity_id": entity_id or state.ref,
        "action": action,
        "actor": actor.name,
        "request_id": actor.request_id,
        "policy_version": version,
        "before": before,
        "after": after,
        "occurred_at": now,
    }


def _plan(
    actor: Actor, now: datetime, version: int, state: AccountState, ev: Evaluation, w: _Writes
) -> list[dict[str, Any]]:
    effects: list[dict[str, Any]] = []
    w.schedule.append((state.id, ev.next_evaluation_at))
    row: dict[str, Any] = {
        "id": state.id,
        "tier_score": ev.tier.score,
        "tier": ev.tier.tier,
        "tier_reasons": ev.tier.rules,
    }
    for decision in ev.promises:
        old_status, old_paid = state.promise_status.get(decision.id, ("pending", 0))
        if (decision.status, decision.paid) == (old_status, old_paid):
            continue
        resolved = now if decision.status != "pending" else None
        w.promises.append(
            {
                "tenant_id": actor.tenant_id,
                "id": uuid.UUID(decision.id),
                "status": decision.status,
                "paid": decision.paid,
                "resolved_at": resolved,
            }
        )
        if decision.status != old_status:
            change = {"promise_id": decision.id, "from": old_status, "to": decision.status}
            effects.append({"type": "promise_status_changed", **change, "paid": decision.paid})
            w.audit.append(
                _audit(
                    actor,
                    now,
                    state,
                    "promise.status_changed",
                    version,
                    {"status": old_status, "paid": old_paid},
                    {"status": decision.status, "paid": decision.paid},
                    entity="promise",
                    entity_id=decision.id,
                )
            )
            if decision.status in FINAL_PROMISE_STATUSES:
                w.outbox.append(
                    _event(
                        actor,
                        now,
                        state,
                        f"promise.{decision.status}",
                        promise_id=decision.id,
                        paid=decision.paid,
                    )
                )
        if decision.follow_up and decision.status != old_status:
            w.follow_ups.append(
                {
                    "tenant_id": actor.tenant_id,
                    "id": uuid.uuid4(),
                    "account_id": state.id,
                    "purpose": decision.follow_up,
                    "due_at": now,
                    "source": f"promise:{decision.id}",
                }
            )
    if ev.tier.tier != state.tier:
        before, after = {"tier": state.tier}, {"tier": ev.tier.tier, "rules": list(ev.tier.rules)}
        effects.append(
            {
                "type": "tier_changed",
                "from": state.tier,
                "to": ev.tier.tier,
                "rules": list(ev.tier.rules),
            }
        )
        w.audit.append(_audit(actor, now, state, "account.tier_changed", version, before, after))
        w.outbox.append(
            _event(
                actor,
                now,
                state,
                "account.tier_changed",
                **{"from": state.tier, "to": ev.tier.tier},
            )
        )
    stage = ev.stage
    if stage.action == "advance" and stage.to_stage is not None:
        row["stage"] = stage.to_stage
        row["stage_entered_at"] = now
        effects.append(
            {
                "type": "stage_changed",
                "from": stage.from_stage,
                "to": stage.to_stage,
                "trigger": stage.trigger,
            }
        )
        w.history.append(
            {
                "tenant_id": actor.tenant_id,
                "account_id": state.id,
                "episode": state.episode,
                "from_stage": stage.from_stage,
                "to_stage": stage.to_stage,
                "tier": ev.tier.tier,
                "trigger": (stage.trigger or "")[:200],
                "actor": actor.name,
                "policy_version": version,
                "occurred_at": now,
            }
        )
        w.audit.append(
            _audit(
                actor,
                now,
                state,
                "account.stage_changed",
                version,
                {"stage": stage.from_stage},
                {"stage": stage.to_stage, "trigger": stage.trigger},
            )
        )
        w.outbox.append(
            _event(
                actor,
                now,
                state,
                "account.stage_changed",
                **{"from": stage.from_stage, "to": stage.to_stage},
            )
        )
    if "stage" in row or (ev.tier.tier, ev.tier.score, json_of(ev.tier.rules)) != (
        state.tier,
        state.tier_score,
        state.tier_reasons_json,
    ):
        w.accounts.append(row)
    return effects


async def apply_evaluations(
    session: AsyncSession,
    actor: Actor,
    version: int,
    decided: list[tuple[AccountState, Evaluation]],
    now: datetime,
    *,
    since: Mapping[int, SinceComputed] | None = None,
) -> dict[int, list[dict[str, Any]]]:
    """Write every decision, made at `now`; return each account's effects (what changed).

    Dialer tasks are recomputed for every account (after a write: `since` None), or, in a due
    evaluation, as the decisions and `since` (what time changed per account) require."""
    writes = _Writes()
    effects = {state.id: _plan(actor, now, version, state, ev, writes) for state, ev in decided}
    if writes.promises:
        await session.execute(_UPDATE_PROMISES, _promise_arrays(actor.tenant_id, writes.promises))
    await update_accounts(session, actor.tenant_id, now, writes.accounts)
    await record_schedule(session, actor.tenant_id, version, now, writes.schedule)
    for model, rows in (
        (StageChange, writes.history),
        (AuditEntry, writes.audit),
        (OutboxEvent, writes.outbox),
    ):
        await insert_unnest(session, model.__table__, rows)  # type: ignore[arg-type]
    await insert_follow_ups(session, writes.follow_ups)
    # Every write of the evaluation is done above; set-based work that must follow it for the
    # evaluated accounts, in this transaction, goes here.
    evaluated, timezone = list(effects), actor.clock.timezone
    if since is None:
        await sync_tasks(session, actor.tenant_id, timezone, evaluated, now)
        await record_history(session, actor.tenant_id, evaluated, now)
    else:
        changed = [i for i in evaluated if effects[i]]
        await refresh_after_evaluation(session, actor.tenant_id, timezone, changed, since, now)
        # Unchanged accounts' intervals move only with days past due: the evaluator's daily
        # sweep (after every pass, once per local day) records those bucket crossings.
        await record_history(session, actor.tenant_id, changed, now)
    return effects


async def insert_follow_ups(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """At most one open follow-up per (account, purpose): a second one is simply not added."""
    if not rows:
        return
    statement = pg_insert(FollowUp).on_conflict_do_nothing(
        index_elements=["tenant_id", "account_id", "purpose"],
        # A literal predicate: PostgreSQL matches a partial index only against literal SQL.
        index_where=text("status = 'open'"),
    )
    await session.execute(statement, rows)


_UPDATE_PROMISES = text(
    """
    UPDATE promises AS p SET status = u.status, paid = u.paid, resolved_at = u.resolved_at
    FROM unnest(
        CAST(:ids AS uuid[]), CAST(:statuses AS text[]), CAST(:paid AS bigint[]),
        CAST(:resolved AS timestamptz[])
    ) AS u(id, status, paid, resolved_at)
    WHERE p.tenant_id = :tenant_id AND p.id = u.id
    """
)


def _promise_arrays(tenant_id: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "ids": [row["id"] for row in rows],
        "statuses": [row["status"] for row in rows],
        "paid": [row["paid"] for row in rows],
        "resolved": [row["resolved_at"] for row in rows],
    }
