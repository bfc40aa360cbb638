from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.fields import Currency, Day, Locale, Money, Name, Ref, TimeZone
from app.models.enums import (
    AccountStatus,
    ContactKind,
    HoldKind,
    Jurisdiction,
    Relationship,
    Stage,
    Tier,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DebtorIn(Strict):
    name: Name
    timezone: TimeZone | None = None
    locale: Locale
    customer_ref: Ref


class ContactSeed(Strict):
    kind: ContactKind
    value: Annotated[str, Field(min_length=1, max_length=320, strict=True)]
    relationship: Relationship
    label: Ref | None = None
    timezone: TimeZone | None = None


class AccountData(Strict):
    """The `data` of an `account.delinquent` event, also the body of PUT /v1/accounts/{ref}."""

    debtor: DebtorIn
    currency: Currency
    principal: Money
    balance: Money
    due_date: Day
    product: Ref
    jurisdiction: Jurisdiction | None = None
    partner: Ref | None = None
    contacts: Annotated[list[ContactSeed], Field(max_length=50)] = []


class DebtorPatch(Strict):
    timezone: TimeZone | None = None


class AccountPatch(Strict):
    """Only the fields sent change; `null` clears `assignee`, `partner` or the time zone."""

    assignee: Ref | None = None
    partner: Ref | None = None
    jurisdiction: Jurisdiction | None = None
    debtor: DebtorPatch | None = None


class DebtorOut(BaseModel):
    name: str
    timezone: str | None
    locale: str
    customer_ref: str


class ReasonOut(BaseModel):
    code: str
    verification: str | None


class HoldOut(BaseModel):
    id: UUID
    kind: HoldKind
    until: datetime | None
    note: str | None
    created_at: datetime


class AccountOut(BaseModel):
    ref: str
    status: AccountStatus
    currency: str
    principal: int
    balance: int
    due_date: date
    days_past_due: int
    tier: Tier | None
    stage: Stage | None
    reason: ReasonOut | None
    holds: list[HoldOut]
    stops: list[str]
    assignee: str | None
    partner: str | None
    jurisdiction: Jurisdiction
    debtor: DebtorOut
    updated_at: datetime
