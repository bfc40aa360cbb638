"""Escalation state: read it, hold and release the climb, advance one step by hand."""

from typing import Any
from uuid import UUID

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.repository import AccountRepository
from app.accounts.schemas import ReasonOut
from app.accounts.service import load_account
from app.accounts.views import stops_of
from app.audit.service import audit
from app.auth import Principal
from app.errors import Conflict, NotFound, invalid
from app.escalation.repository import EscalationRepository
from app.escalation.schemas import AdvanceIn, EscalationOut, HistoryEntry, HoldIn, HoldState
from app.evaluation.context import Actor
from app.evaluation.loader import load_facts
from app.evaluation.service import reevaluate
from app.logs import request_id_var
from app.masking import mask_text
from app.models import Account, Hold, OutboxEvent, StageChange
from app.models.enums import Stage
from app.policy.ladder import decide_manual_advance
from app.policy.packs import hold_end
from app.policy_api.repository import PolicyRepository

STAGES = [stage.value for stage in Stage]
MANUAL_PREFIX = "manual: "


def _hold_state(hold: Hold, *, masked: bool = False) -> HoldState:
    state = HoldState.model_validate(hold, from_attributes=True)
    if masked and state.note:
        state.note = mask_text(state.note)
    return state


def _history_entry(change: StageChange, *, masked: bool) -> HistoryEntry:
    entry = HistoryEntry.model_validate(change, from_attributes=True)
    if masked and entry.trigger.startswith(MANUAL_PREFIX):
        entry.trigger = MANUAL_PREFIX + mask_text(entry.trigger[len(MANUAL_PREFIX) :])
    return entry


def _hold_snapshot(hold: Hold) -> dict[str, Any]:
    return {
        "kind": hold.kind,
        "until": hold.until.isoformat() if hold.until else None,
        "lifted_at": hold.lifted_at.isoformat() if hold.lifted_at else None,
    }


async def escalation_state(
    session: AsyncSession, principal: Principal, account: Account
) -> EscalationOut:
    repo = EscalationRepository(session)
    schedule = await repo.schedule(principal.tenant_id, account.id)
    debtor = (await AccountRepository(session).debtors(principal.tenant_id, {account.debtor_id}))[
        account.debtor_id
    ]
    masked = principal.partner is not None
    on_ladder = account.status == "delinquent"
    stage = account.stage if on_ladder else None
    reason = (
        ReasonOut(code=account.reason_code, verification=account.reason_verification)
        if account.reason_code
        else None
    )
    return EscalationOut.model_validate(
        {
            "account_ref": account.ref,
            "status": account.status,
            "stage": stage,
            "stage_index": STAGES.index(stage) if stage else None,
            "entered_at": account.stage_entered_at if on_ladder else None,
            "tier": account.tier,
            "tier_score": account.tier_score,
            "tier_reasons": account.tier_reasons or [],
            "reason": reason,
            "holds": [
                _hold_state(h, masked=masked)
                for h in await repo.open_holds(
                    principal.tenant_id, account.id, principal.clock.now()
                )
            ],
            "stops": stops_of(debtor),
            "next_evaluation_at": schedule.next_evaluation_at if schedule else None,
            "policy_version": schedule.policy_version if schedule else None,
            "history": [
                _history_entry(change, masked=masked)
                for change in await repo.history(principal.tenant_id, account.id)
            ],
        }
    )


async def read(session: AsyncSession, principal: Principal, ref: str) -> EscalationOut:
    return await escalation_state(session, principal, await load_account(session, principal, ref))


async def _hold_changed(
    session: AsyncSession,
    principal: Principal,
    account: Account,
    hold: Hold,
    action: str,
    before: dict[str, Any] | None,
) -> HoldState:
    """Audit a hold's change under the current policy version, then re-decide the account."""
    await session.flush()
    policy = await PolicyRepository(session).current(principal.tenant_id)
    audit(
        session,
        principal,
        entity="hold",
        entity_id=str(hold.id),
        action=action,
        account_id=account.id,
        before=before,
        after=_hold_snapshot(hold),
        policy_version=policy.version,
    )
    await reevaluate(session, Actor.of(principal, request_id_var.get()), [account.id])
    return _hold_state(hold, masked=principal.partner is not None)


async def create_hold(
    session: AsyncSession, principal: Principal, ref: str, body: HoldIn
) -> HoldState:
    account = await load_account(session, principal, ref, for_update=True)
    now = principal.clock.now()
    if body.until is not None and body.until <= now:
        raise invalid(("body", "until"), "is in the past")
    document = (await PolicyRepository(session).current(principal.tenant_id)).document
    pack = document.pack_of(account.jurisdiction)
    hold = Hold(
        tenant_id=principal.tenant_id,
        account_id=account.id,
        kind=body.kind.value,
        until=hold_end(pack, body.kind.value, body.until, now),
        note=body.note,
        created_at=now,
    )
    session.add(hold)
    return await _hold_changed(session, principal, account, hold, "hold.created", None)


async def lift_hold(
    session: AsyncSession, principal: Principal, ref: str, hold_id: UUID
) -> HoldState:
    account = await load_account(session, principal, ref, for_update=True)
    hold = await EscalationRepository(session).hold(principal.tenant_id, account.id, hold_id)
    if hold is None:
        raise NotFound(f"No hold {hold_id} on account {ref!r}.")
    if hold.lifted_at is not None:
        raise Conflict("This hold was already lifted.")
    before = _hold_snapshot(hold)
    hold.lifted_at = principal.clock.now()
    return await _hold_changed(session, principal, account, hold, "hold.lifted", before)


async def advance(
    session: AsyncSession, principal: Principal, ref: str, body: AdvanceIn
) -> EscalationOut:
    """One stage up now, without dwell or trigger; refused (409) when anything blocks it."""
    account = await load_account(session, principal, ref, for_update=True)
    policy = await PolicyRepository(session).current(principal.tenant_id)
    now = principal.clock.now()
    [(_, facts)] = await load_facts(
        session, principal.tenant_id, principal.clock.timezone, [account.id], now
    )
    decision = decide_manual_advance(facts, policy.document, now)
    if decision.action != "advance" or decision.to_stage is None:
        blockers = list(decision.blockers) or [decision.action]
        raise Conflict(
            f"Account {ref!r} cannot advance: {', '.join(blockers)}.", extra={"blockers": blockers}
        )
    before = {"stage": account.stage}
    account.stage, account.stage_entered_at = decision.to_stage, now
    trigger = f"{MANUAL_PREFIX}{body.reason}"[:200]
    session.add(
        StageChange(
            tenant_id=principal.tenant_id,
            account_id=account.id,
            episode=account.episode,
            from_stage=decision.from_stage,
            to_stage=decision.to_stage,
            tier=account.tier,
            trigger=trigger,
            actor=principal.actor,
            policy_version=policy.version,
            occurred_at=now,
        )
    )
    await session.execute(
        insert(OutboxEvent).values(
            tenant_id=principal.tenant_id,
            type="account.stage_changed",
            account_id=account.id,
            payload={"account_ref": ref, "from": decision.from_stage, "to": decision.to_stage},
            occurred_at=now,
        )
    )
    audit(
        session,
        principal,
        entity="account",
        entity_id=ref,
        action="account.stage_advanced",
        account_id=account.id,
        before=before,
        after={"stage": decision.to_stage, "reason": body.reason},
        policy_version=policy.version,
    )
    await session.flush()
    await reevaluate(session, Actor.of(principal, request_id_var.get()), [account.id])
    return await escalation_state(session, principal, account)
