from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field


class RuleVerdict(BaseModel):
    rule: str = Field(description="Stable rule name, e.g. calling_window, cease_request.")
    allowed: bool
    detail: str = Field(description="Why, in one sentence.")


class ContactEligibility(BaseModel):
    contact_id: UUID
    kind: str
    relationship: str
    address: str = Field(description="The number or address; masked for partner-bound keys.")
    allowed: bool = Field(description="Callable for the whole lease from `at`.")
    next_allowed_at: datetime | None = Field(
        description="`at` when allowed; else the earliest instant the same history allows the "
        "call; null when no passing of time does (a stop, a status, no overlap of windows)."
    )
    blocked_by: list[str] = Field(description="The names of the rules that block the call.")
    explanation: str
    rules: list[RuleVerdict] = Field(description="Every rule that applies, passing or not.")


class EligibilityOut(BaseModel):
    account_ref: str
    at: datetime
    lease_seconds: int
    jurisdiction: str
    policy_version: int
    contacts: list[ContactEligibility]
