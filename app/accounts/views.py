"""Account rows → API shapes, masked for partner-bound keys."""

from datetime import date
from typing import Any

from app.accounts.schemas import AccountOut, DebtorOut, HoldOut, ReasonOut
from app.masking import mask_text
from app.models import Account, Debtor, Hold
from app.policy.escalation import days_past_due


def stops_of(debtor: Debtor) -> list[str]:
    stops = []
    if debtor.cease_at is not None:
        stops.append("cease")
    if debtor.bankruptcy_at is not None:
        stops.append("bankruptcy")
    if debtor.deceased_at is not None:
        stops.append("deceased")
    return stops


def _hold_out(hold: Hold, *, masked: bool) -> HoldOut:
    out = HoldOut.model_validate(hold, from_attributes=True)
    if masked and out.note:
        out.note = mask_text(out.note)
    return out


def account_out(
    account: Account, debtor: Debtor, holds: list[Hold], today: date, *, masked: bool
) -> AccountOut:
    reason = (
        ReasonOut(code=account.reason_code, verification=account.reason_verification)
        if account.reason_code is not None
        else None
    )
    return AccountOut.model_validate(
        {
            "ref": account.ref,
            "status": account.status,
            "currency": account.currency,
            "principal": account.principal,
            "balance": account.balance,
            "due_date": account.due_date,
            "days_past_due": days_past_due(account.status, account.due_date, today),
            "tier": account.tier,
            "stage": account.stage if account.status == "delinquent" else None,
            "reason": reason,
            "holds": [_hold_out(hold, masked=masked) for hold in holds],
            "stops": stops_of(debtor),
            "assignee": account.assignee,
            "partner": account.partner,
            "jurisdiction": account.jurisdiction,
            "debtor": DebtorOut(
                name=mask_text(debtor.name) if masked else debtor.name,
                timezone=debtor.timezone,
                locale=debtor.locale,
                customer_ref=debtor.customer_ref,
            ),
            "updated_at": account.updated_at,
        }
    )


def account_snapshot(account: Account) -> dict[str, Any]:
    """The audited state of an account (JSON-safe)."""
    return {
        "ref": account.ref,
        "status": account.status,
        "currency": account.currency,
        "principal": account.principal,
        "balance": account.balance,
        "due_date": account.due_date.isoformat(),
        "product": account.product,
        "jurisdiction": account.jurisdiction,
        "partner": account.partner,
        "assignee": account.assignee,
        "tier": account.tier,
        "stage": account.stage,
        "episode": account.episode,
        "debtor_id": account.debtor_id,
    }
