from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.fields import Day, Instant, Note, PositiveMoney, Ref
from app.models.enums import Channel, Direction, Outcome, ReasonCode


class PromiseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: PositiveMoney
    due_date: Day


class InteractionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: UUID | None = Field(
        default=None, description="Optional client id; resending the same interaction is safe."
    )
    contact_id: UUID
    channel: Channel
    direction: Direction
    occurred_at: Instant
    outcome: Outcome
    reason_code: ReasonCode | None = None
    notes: Note | None = None
    agent: Ref | None = None
    promise: PromiseIn | None = None
    callback_at: Instant | None = None


class PromiseOut(BaseModel):
    amount: int
    due_date: date


class InteractionOut(BaseModel):
    id: UUID
    contact_id: UUID
    channel: Channel
    direction: Direction
    occurred_at: datetime
    outcome: Outcome
    reason_code: ReasonCode | None
    notes: str | None
    agent: str | None
    promise: PromiseOut | None
    callback_at: datetime | None
    effects: list[dict[str, Any]] = Field(
        description="What the interaction changed: contact status, stops, tier or stage, "
        "promises, and any contact-rule violations it broke (always recorded, flagged)."
    )
    recorded_at: datetime
