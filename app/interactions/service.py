import hashlib
import json
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import load_account
from app.audit.service import audit
from app.auth import Principal
from app.contacts.repository import ContactRepository
from app.dialer.rules import call_violations
from app.errors import Conflict, invalid
from app.http.pagination import Page, decode_cursor, encode_cursor
from app.interactions.effects import apply_effects
from app.interactions.repository import InteractionRepository
from app.interactions.schemas import InteractionIn, InteractionOut, PromiseOut
from app.masking import mask_text
from app.models import Interaction

FUTURE_TOLERANCE = timedelta(minutes=5)


def interaction_out(interaction: Interaction, *, masked: bool) -> InteractionOut:
    promise = None
    if interaction.promise_amount is not None and interaction.promise_due_date is not None:
        promise = PromiseOut(
            amount=interaction.promise_amount, due_date=interaction.promise_due_date
        )
    notes = interaction.notes
    return InteractionOut.model_validate(
        {
            "id": interaction.id,
            "contact_id": interaction.contact_id,
            "channel": interaction.channel,
            "direction": interaction.direction,
            "occurred_at": interaction.occurred_at,
            "outcome": interaction.outcome,
            "reason_code": interaction.reason_code,
            "notes": mask_text(notes) if masked and notes else notes,
            "agent": interaction.agent,
            "promise": promise,
            "callback_at": interaction.callback_at,
            "effects": interaction.effects,
            "recorded_at": interaction.created_at,
        }
    )


def _digest(body: InteractionIn) -> bytes:
    content = body.model_dump(mode="json", exclude={"id"})
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).digest()


def _check_consistency(body: InteractionIn, now: datetime) -> None:
    if body.occurred_at > now + FUTURE_TOLERANCE:
        raise invalid(("body", "occurred_at"), "is in the future")
    if body.outcome == "promise_to_pay" and body.promise is None:
        raise invalid(("body", "promise"), "required when the outcome is promise_to_pay")
    if body.outcome != "promise_to_pay" and body.promise is not None:
        raise invalid(("body", "promise"), "only a promise_to_pay outcome carries a promise")


async def record_interaction(
    session: AsyncSession,
    principal: Principal,
    ref: str,
    body: InteractionIn,
    *,
    extra_effects: list[dict[str, Any]] | None = None,
) -> tuple[InteractionOut, bool]:
    """Store an interaction that already happened; False when it was already recorded.

    An outbound call is judged against the contact rules at its `occurred_at` (on the history
    before it): the rules it broke are stored in `violations` and listed in `effects`.
    """
    account = await load_account(session, principal, ref, for_update=True)
    _check_consistency(body, principal.clock.now())
    contact = await ContactRepository(session).get(
        principal.tenant_id, account.id, body.contact_id, for_update=True
    )
    if contact is None:
        raise invalid(("body", "contact_id"), "not a contact of this account")
    digest = _digest(body)
    masked = principal.partner is not None
    repo = InteractionRepository(session)
    if body.id is not None and (known := await repo.get(principal.tenant_id, body.id)) is not None:
        if known.account_id != account.id or known.content_digest != digest:
            raise Conflict("An interaction with this id was already recorded differently.")
        return interaction_out(known, masked=masked), False
    violations = []
    if body.channel == "call" and body.direction == "outbound":
        violations = await call_violations(
            session, principal.tenant_id, account.id, contact.id, body.occurred_at
        )
    effects = list(extra_effects or [])
    if violations:
        effects.append({"type": "contact_rule_violation", "rules": violations})
    interaction = Interaction(
        tenant_id=principal.tenant_id,
        id=body.id or uuid4(),
        account_id=account.id,
        contact_id=contact.id,
        channel=body.channel.value,
        direction=body.direction.value,
        occurred_at=body.occurred_at,
        outcome=body.outcome.value,
        reason_code=body.reason_code.value if body.reason_code else None,
        notes=body.notes,
        agent=body.agent,
        promise_amount=body.promise.amount if body.promise else None,
        promise_due_date=body.promise.due_date if body.promise else None,
        callback_at=body.callback_at,
        effects=[],
        violations=violations,
        content_digest=digest,
        recorded_by=principal.actor,
    )
    session.add(interaction)
    await session.flush()
    policy_effects = await apply_effects(session, principal, account, contact, interaction)
    interaction.effects = policy_effects + effects
    audit(
        session,
        principal,
        entity="interaction",
        entity_id=str(interaction.id),
        action="interaction.recorded",
        account_id=account.id,
        before=None,
        after=_snapshot(interaction),
    )
    await session.flush()
    await session.refresh(interaction)
    return interaction_out(interaction, masked=masked), True


def _snapshot(interaction: Interaction) -> dict[str, Any]:
    return {
        "contact_id": str(interaction.contact_id),
        "channel": interaction.channel,
        "direction": interaction.direction,
        "occurred_at": interaction.occurred_at.isoformat(),
        "outcome": interaction.outcome,
        "reason_code": interaction.reason_code,
        "agent": interaction.agent,
        "promise_amount": interaction.promise_amount,
        "promise_due_date": (
            interaction.promise_due_date.isoformat() if interaction.promise_due_date else None
        ),
        "effects": interaction.effects,
    }


async def list_interactions(
    session: AsyncSession, principal: Principal, ref: str, cursor: str | None, limit: int
) -> Page[InteractionOut]:
    account = await load_account(session, principal, ref)
    position = decode_cursor(cursor, 2)
    before = None
    if position is not None:
        try:
            before = (datetime.fromisoformat(position[0]), UUID(position[1]))
        except (TypeError, ValueError) as exc:
            raise invalid(("query", "cursor"), "not a cursor this endpoint issued") from exc
    rows = await InteractionRepository(session).page_for_account(
        principal.tenant_id, account.id, before, limit + 1
    )
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last.occurred_at.isoformat(), last.id)
    masked = principal.partner is not None
    return Page(
        items=[interaction_out(i, masked=masked) for i in rows[:limit]], next_cursor=next_cursor
    )
