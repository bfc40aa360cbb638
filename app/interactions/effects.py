"""What a recorded interaction changes. Each change is audited and listed in `effects`;
the account is then re-evaluated in the same transaction (tier, stage, promises)."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.repository import AccountRepository
from app.accounts.views import stops_of
from app.audit.service import audit
from app.auth import Principal
from app.contacts.service import contact_snapshot
from app.evaluation.context import Actor
from app.evaluation.service import reevaluate
from app.logs import request_id_var
from app.models import Account, Contact, Debtor, Hold, Interaction, Promise
from app.policy.promises import check_new_promise
from app.policy_api.repository import ActivePolicy, PolicyRepository

HARDSHIP_REVIEW = timedelta(days=30)
STOP_OUTCOMES = {
    "cease_request": "cease",
    "bankruptcy_reported": "bankruptcy",
    "deceased_reported": "deceased",
}
HOLD_OUTCOMES = {"dispute": "dispute", "hardship": "hardship"}


class _Context:
    def __init__(
        self,
        session: AsyncSession,
        principal: Principal,
        account: Account,
        policy: ActivePolicy,
    ) -> None:
        self.session, self.principal, self.account, self.policy = (
            session,
            principal,
            account,
            policy,
        )
        self.effects: list[dict[str, Any]] = []

    def audit(self, entity: str, entity_id: str, action: str, before: Any, after: Any) -> None:
        audit(
            self.session,
            self.principal,
            entity=entity,
            entity_id=entity_id,
            action=action,
            account_id=self.account.id,
            before=before,
            after=after,
            policy_version=self.policy.version,
        )


async def apply_effects(
    session: AsyncSession,
    principal: Principal,
    account: Account,
    contact: Contact,
    interaction: Interaction,
) -> list[dict[str, Any]]:
    policy = await PolicyRepository(session).current(principal.tenant_id)
    ctx = _Context(session, principal, account, policy)
    _mark_wrong_number(ctx, contact, interaction)
    await _add_stop(ctx, interaction)
    await _add_hold(ctx, interaction)
    _set_reason(ctx, contact, interaction)
    await _create_promise(ctx, interaction)
    await session.flush()
    changes = await reevaluate(session, Actor.of(principal, request_id_var.get()), [account.id])
    return ctx.effects + changes.get(account.id, [])


def _mark_wrong_number(ctx: _Context, contact: Contact, interaction: Interaction) -> None:
    if interaction.outcome != "wrong_number" or contact.status not in ("active", "unreachable"):
        return
    before = contact_snapshot(contact)
    contact.status = "wrong_number"
    contact.updated_at = ctx.principal.clock.now()
    ctx.audit(
        "contact", str(contact.id), "contact.marked_wrong_number", before, contact_snapshot(contact)
    )
    ctx.effects.append(
        {"type": "contact_status_changed", "contact_id": str(contact.id), "status": "wrong_number"}
    )


async def _add_stop(ctx: _Context, interaction: Interaction) -> None:
    stop = STOP_OUTCOMES.get(interaction.outcome)
    if stop is None:
        return
    debtors = await AccountRepository(ctx.session).debtors(
        ctx.principal.tenant_id, {ctx.account.debtor_id}
    )
    debtor: Debtor = debtors[ctx.account.debtor_id]
    column = f"{stop}_at"
    if getattr(debtor, column) is not None:
        return
    before = {"stops": stops_of(debtor)}
    setattr(debtor, column, interaction.occurred_at)
    ctx.audit(
        "debtor", debtor.customer_ref, "debtor.stop_added", before, {"stops": stops_of(debtor)}
    )
    ctx.effects.append({"type": "stop_added", "stop": stop})


async def _add_hold(ctx: _Context, interaction: Interaction) -> None:
    kind = HOLD_OUTCOMES.get(interaction.outcome)
    if kind is None:
        return
    until = interaction.occurred_at + HARDSHIP_REVIEW if kind == "hardship" else None
    if until is not None and until <= ctx.principal.clock.now():
        return
    hold = Hold(
        tenant_id=ctx.principal.tenant_id,
        account_id=ctx.account.id,
        kind=kind,
        until=until,
        note=f"reported in interaction {interaction.id}",
        created_at=ctx.principal.clock.now(),
    )
    ctx.session.add(hold)
    await ctx.session.flush()
    snapshot = {"kind": kind, "until": until.isoformat() if until else None}
    ctx.audit("hold", str(hold.id), "hold.created", None, snapshot)
    ctx.effects.append({"type": "hold_created", "hold_id": str(hold.id), **snapshot})


def _set_reason(ctx: _Context, contact: Contact, interaction: Interaction) -> None:
    code = interaction.reason_code
    if code is None:
        return
    account = ctx.account
    before = {"code": account.reason_code, "verification": account.reason_verification}
    if contact.relationship == "self" or account.reason_code is None:
        account.reason_code, account.reason_verification = code, "claimed"
    elif account.reason_code == code:
        account.reason_verification = "verified"
    else:
        account.reason_verification = "contradicted"
    after = {"code": account.reason_code, "verification": account.reason_verification}
    if after != before:
        ctx.audit("account", account.ref, "account.reason_changed", before, after)
        ctx.effects.append({"type": "reason_changed", **after})


async def _create_promise(ctx: _Context, interaction: Interaction) -> None:
    if interaction.promise_amount is None or interaction.promise_due_date is None:
        return
    amount, due = interaction.promise_amount, interaction.promise_due_date
    now = ctx.principal.clock.now()
    refusal = check_new_promise(amount, due, ctx.policy.document, ctx.principal.clock.timezone, now)
    if refusal is not None:
        interaction.promise_amount = interaction.promise_due_date = None
        ctx.effects.append(
            {
                "type": "promise_refused",
                "reason": refusal,
                "amount": amount,
                "due_date": due.isoformat(),
            }
        )
        return
    await _cancel_pending(ctx, now)
    promise = Promise(
        tenant_id=ctx.principal.tenant_id,
        account_id=ctx.account.id,
        episode=ctx.account.episode,
        interaction_id=interaction.id,
        amount=amount,
        due_date=due,
        created_at=_promise_start(interaction.occurred_at, now),
    )
    ctx.session.add(promise)
    await ctx.session.flush()
    snapshot = {"amount": amount, "due_date": due.isoformat(), "status": "pending"}
    ctx.audit("promise", str(promise.id), "promise.created", None, snapshot)
    ctx.effects.append({"type": "promise_created", "promise_id": str(promise.id), **snapshot})


def _promise_start(occurred_at: datetime, now: datetime) -> datetime:
    return min(occurred_at, now)


async def _cancel_pending(ctx: _Context, now: datetime) -> None:
    """One pending promise per account: a new one cancels the old."""
    cancelled = await ctx.session.execute(
        update(Promise)
        .where(
            Promise.tenant_id == ctx.principal.tenant_id,
            Promise.account_id == ctx.account.id,
            Promise.status == "pending",
        )
        .values(status="cancelled", resolved_at=now)
        .returning(Promise.id)
    )
    for (promise_id,) in cancelled:
        ctx.audit(
            "promise",
            str(promise_id),
            "promise.cancelled",
            {"status": "pending"},
            {"status": "cancelled"},
        )
        ctx.effects.append({"type": "promise_cancelled", "promise_id": str(promise_id)})
