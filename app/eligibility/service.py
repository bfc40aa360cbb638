"""Contact eligibility for one account: each contact's verdict with its reasons."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import load_account
from app.auth import Principal
from app.eligibility.repository import load_contact_facts
from app.eligibility.schemas import ContactEligibility, EligibilityOut, RuleVerdict
from app.errors import invalid
from app.masking import mask_contact_value
from app.policy.contact_rules import decide_contact
from app.policy_api.repository import PolicyRepository

# How far from now `at` may be: the history loaded covers the rules' look-back from `at`.
MAX_DISTANCE = timedelta(days=30)


def _check_at(at: datetime, now: datetime) -> None:
    if abs(at - now) > MAX_DISTANCE:
        raise invalid(("query", "at"), "must be within 30 days of now")


async def read_eligibility(
    session: AsyncSession,
    principal: Principal,
    ref: str,
    at: datetime | None,
    lease_seconds: int,
) -> EligibilityOut:
    now = principal.clock.now()
    when = now if at is None else at.astimezone(UTC)
    _check_at(when, now)
    account = await load_account(session, principal, ref)
    policy = await PolicyRepository(session).current(principal.tenant_id)
    loaded = (await load_contact_facts(session, principal.tenant_id, [account.id], when))[
        account.id
    ]
    masked = principal.partner is not None
    contacts = []
    for contact in loaded.facts.contacts:
        decision = decide_contact(
            loaded.facts, contact, loaded.history, policy.document, when, lease_seconds
        )
        address = loaded.addresses[contact.id]
        contacts.append(
            ContactEligibility(
                contact_id=UUID(contact.id),
                kind=contact.kind,
                relationship=contact.relationship,
                address=mask_contact_value(address.kind, address.value)
                if masked
                else address.value,
                allowed=decision.allowed,
                next_allowed_at=decision.next_allowed_at,
                blocked_by=list(decision.rules),
                explanation=decision.explanation,
                rules=[
                    RuleVerdict(rule=c.rule, allowed=c.allowed, detail=c.detail)
                    for c in decision.checks
                ],
            )
        )
    return EligibilityOut(
        account_ref=account.ref,
        at=when,
        lease_seconds=lease_seconds,
        jurisdiction=loaded.facts.jurisdiction,
        policy_version=policy.version,
        contacts=contacts,
    )
