from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.accounts.schemas import ReasonOut
from app.fields import Instant
from app.models.enums import HoldKind, Stage, Tier


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: HoldKind
    until: Instant | None = Field(
        default=None,
        description="Review date; omitted: until lifted, except a `breathing_space` hold, which "
        "then lasts the jurisdiction pack's `breathing_space_days` (uk_fca: 60 days).",
    )
    note: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, max_length=2000), Field(strict=True)
        ]
        | None
    ) = None


class HoldState(BaseModel):
    id: UUID
    kind: HoldKind
    until: datetime | None
    note: str | None
    created_at: datetime
    lifted_at: datetime | None


class AdvanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class HistoryEntry(BaseModel):
    from_stage: Stage | None
    to_stage: Stage | None
    tier: Tier | None
    trigger: str
    actor: str
    policy_version: int | None
    occurred_at: datetime


class EscalationOut(BaseModel):
    account_ref: str
    status: str
    stage: Stage | None
    stage_index: int | None
    entered_at: datetime | None
    tier: Tier | None
    tier_score: int | None
    tier_reasons: list[str]
    reason: ReasonOut | None
    holds: list[HoldState]
    stops: list[str]
    next_evaluation_at: datetime | None
    policy_version: int | None
    history: list[HistoryEntry]
