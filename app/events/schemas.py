"""POST /v1/events: the batch, each event's envelope and `data` per type, and the results.

The batch's items are loose objects in the OpenAPI schema and are validated here, one by
one, so that one bad event rejects only itself.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from app.accounts.schemas import AccountData
from app.contacts.schemas import ContactIn
from app.fields import Currency, Day, Instant, Money, PositiveMoney, Ref
from app.http.openapi import FieldError
from app.models.events import EventType

MAX_EVENTS = 1000
MAX_FUTURE_SECONDS = 300

Reason = Annotated[
    str, Field(strict=True), StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PaymentReceived(Strict):
    amount: PositiveMoney
    payment_ref: Ref
    currency: Currency | None = Field(default=None, description="Must equal the account's.")


class PaymentReversed(Strict):
    payment_ref: Ref
    reason: Reason | None = None


class BalanceAdjusted(Strict):
    balance: Money
    due_date: Day
    reason: Reason


class StatusChanged(Strict):
    """`account.cured`, `account.closed`, `account.charged_off`; also the debtor stops."""

    reason: Reason | None = None


class DisputeData(Strict):
    reason: Reason


class HardshipDeclared(Strict):
    kind: Literal["disaster", "medical", "income_loss", "family_change", "other"]
    until: Instant


DATA_MODELS: dict[EventType, type[BaseModel]] = {
    EventType.account_delinquent: AccountData,
    EventType.payment_received: PaymentReceived,
    EventType.payment_reversed: PaymentReversed,
    EventType.balance_adjusted: BalanceAdjusted,
    EventType.account_cured: StatusChanged,
    EventType.account_closed: StatusChanged,
    EventType.account_charged_off: StatusChanged,
    EventType.dispute_opened: DisputeData,
    EventType.dispute_resolved: DisputeData,
    EventType.debtor_bankruptcy: StatusChanged,
    EventType.debtor_deceased: StatusChanged,
    EventType.hardship_declared: HardshipDeclared,
    EventType.contact_upserted: ContactIn,
}


class Envelope(Strict):
    id: Ref
    type: EventType
    occurred_at: Instant
    account_ref: Ref
    data: dict[str, Any] = {}


_LOOSE_EVENT_SCHEMA: dict[str, Any] = {
    # Deliberately unconstrained: any item is accepted into the batch and judged on its own,
    # so a bad item is `rejected` in `results` and never fails the request (api.md).
    "description": (
        "One event, an object: `id` (1..100 characters, unique per tenant), `type` (one of "
        + ", ".join(f"`{t.value}`" for t in EventType)
        + "), `occurred_at` (RFC 3339 date-time), `account_ref` (1..100 characters) and "
        "`data` (an object; its fields depend on `type`). Validated per item: a bad item is "
        "`rejected` in `results` and never fails the request."
    ),
    "examples": [
        {
            "id": "evt-1",
            "type": "payment.received",
            "occurred_at": "2026-11-01T09:00:00Z",
            "account_ref": "L-1",
            "data": {"amount": 5000, "payment_ref": "pay-1"},
        }
    ],
}
LooseEvent = Annotated[Any, WithJsonSchema(_LOOSE_EVENT_SCHEMA)]


class EventBatchIn(Strict):
    events: list[LooseEvent] = Field(description=f"Up to {MAX_EVENTS} events (more: 413).")


def _unset(value: object) -> bool:
    return value is None


class EventProblem(BaseModel):
    """Why an event was rejected, as an RFC 9457 problem."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(default=None, exclude_if=_unset)


class EventResult(BaseModel):
    id: str | None = Field(description="The event's id as sent (null when it had none).")
    status: Literal["applied", "duplicate", "rejected"]
    error: EventProblem | None = Field(default=None, exclude_if=_unset)


class EventBatchOut(BaseModel):
    applied: int
    duplicates: int
    rejected: int
    results: list[EventResult] = Field(description="One per event, in request order.")
