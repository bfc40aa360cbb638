"""What a recorded interaction changes. Each effect is audited and listed in the response."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.repository import AccountRepository
from app.audit.service import audit
from app.auth import Principal
from app.contacts.service import contact_snapshot
from app.models import Account, Contact, Interaction


async def apply_effects(
    session: AsyncSession,
    principal: Principal,
    account: Account,
    contact: Contact,
    interaction: Interaction,
) -> list[dict[str, Any]]:
    effects: list[dict[str, Any]] = []
    if interaction.outcome == "wrong_number" and contact.status in ("active", "unreachable"):
        before = contact_snapshot(contact)
        contact.status = "wrong_number"
        contact.updated_at = principal.clock.now()
        audit(
            session,
            principal,
            entity="contact",
            entity_id=str(contact.id),
            action="contact.marked_wrong_number",
            account_id=account.id,
            before=before,
            after=contact_snapshot(contact),
        )
        effects.append(
            {
                "type": "contact_status_changed",
                "contact_id": str(contact.id),
                "status": "wrong_number",
            }
        )
    if interaction.outcome == "cease_request":
        debtor = (
            await AccountRepository(session).debtors(principal.tenant_id, {account.debtor_id})
        )[account.debtor_id]
        if debtor.cease_at is None:
            debtor.cease_at = interaction.occurred_at
            audit(
                session,
                principal,
                entity="debtor",
                entity_id=debtor.customer_ref,
                action="debtor.stop_added",
                account_id=account.id,
                before={"stops": []},
                after={"stops": ["cease"]},
            )
            effects.append({"type": "stop_added", "stop": "cease"})
    return effects
