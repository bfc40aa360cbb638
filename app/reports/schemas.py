"""Report bodies. Every report has `rows`, which is also its CSV (`Accept: text/csv`)."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Bucket = Literal["current", "1-30", "31-60", "61-90", "91-180", "181+"]
HistoryBucket = Literal[
    "current", "1-30", "31-60", "61-90", "91-180", "181+", "closed", "charged_off"
]


class StatusTotal(BaseModel):
    status: str
    currency: str
    count: int
    balance: int = Field(description="Sum of balances, minor units, this currency only.")


class PortfolioRow(BaseModel):
    tier: str | None
    stage: str | None
    bucket: Bucket
    currency: str
    count: int
    balance: int = Field(description="Sum of balances, minor units, this currency only.")


class PortfolioReport(BaseModel):
    as_of: datetime
    totals_by_status: list[StatusTotal]
    rows: list[PortfolioRow]


class Period(BaseModel):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date


class PromiseRow(BaseModel):
    currency: str
    made: int
    kept: int
    partially_kept: int
    broken: int
    pending: int
    cancelled: int
    kept_rate: float | None = Field(
        description="kept / (kept + partially_kept + broken); null when none is resolved."
    )
    amount_promised: int
    amount_paid: int
    amount_kept: int = Field(description="Amount of the promises that were kept in full.")


class PromisesReport(Period):
    rows: list[PromiseRow]


class RollRow(BaseModel):
    from_bucket: HistoryBucket
    to_bucket: HistoryBucket
    count: int
    rate: float = Field(description="count / accounts in from_bucket on `from`.")


class RollRatesReport(Period):
    accounts: int = Field(description="Accounts with a known bucket on both dates.")
    rows: list[RollRow]


class ContactRow(BaseModel):
    tier: str | None
    stage: str | None
    attempts: int
    right_party_contacts: int
    contact_rate: float | None = Field(
        description="right_party_contacts / attempts; null without attempts."
    )
    inbound_conversations: int


class ContactsReport(Period):
    rows: list[ContactRow]


class ComplianceRow(BaseModel):
    kind: Literal["blocked_claim", "violation"]
    jurisdiction: str = Field(description="The jurisdiction pack that applied.")
    rule: str
    count: int


class ComplianceReport(Period):
    blocked_claims: int
    violations: int
    rows: list[ComplianceRow]
