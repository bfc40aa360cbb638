from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.policy.document import PolicyDocument


class PolicyOut(BaseModel):
    version: int
    created_at: datetime
    created_by: str
    document: dict[str, Any]


class SimulateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: PolicyDocument


class Move(BaseModel):
    from_: str | None = Field(alias="from")
    to: str | None
    count: int

    model_config = ConfigDict(populate_by_name=True)


class SampleAccount(BaseModel):
    account_ref: str
    tier_from: str | None
    tier_to: str
    tier_rules: list[str]
    stage_from: str | None
    stage_to: str | None
    stage_action: str
    trigger: str | None
    blockers: list[str]


class SimulationOut(BaseModel):
    as_of: datetime
    current_version: int
    accounts: int = Field(description="Delinquent accounts evaluated.")
    tier_changes: int
    stage_changes: int
    tier_moves: list[Move] = Field(description="from → to counts, changes only.")
    stage_moves: list[Move] = Field(description="from → to counts, changes only.")
    sample: list[SampleAccount]
