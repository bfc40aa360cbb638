from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, Strict

from app.fields import WHOLE_NUMBER, Instant, Note, Ref
from app.interactions.schemas import PromiseIn
from app.models.enums import Channel, Direction, Outcome, ReasonCode, Stage, Tier

Purpose = Literal[
    "reminder",
    "collect",
    "relay_request",
    "location_inquiry",
    "promise_reminder",
    "payment_confirmation",
]
ClaimLimit = Annotated[int, Strict(), Field(ge=1, le=100), WHOLE_NUMBER]
LeaseSeconds = Annotated[int, Strict(), Field(ge=30, le=3600), WHOLE_NUMBER]


class ClaimFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tiers: list[Tier] | None = Field(default=None, max_length=3)
    stages: list[Stage] | None = Field(default=None, max_length=6)
    partner: Ref | None = None


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: ClaimLimit
    lease_seconds: LeaseSeconds
    agent: Ref | None = Field(
        default=None,
        description="Who will call; required to receive work in the `reassigned` stage, which "
        "never goes to an agent who held the account before.",
    )
    filter: ClaimFilter | None = None


class TaskOut(BaseModel):
    task_id: UUID = Field(
        description="Names this lease; a later lease of the same work gets a new id."
    )
    account_ref: str
    contact_id: UUID
    channel: Literal["call"]
    address: str = Field(description="The phone number, in clear (dialer tasks are never masked).")
    relationship: str
    purpose: Purpose
    stage: Stage | None
    tier: Tier | None
    priority: int
    lease_expires_at: datetime
    talking_points: list[str]


class ClaimOut(BaseModel):
    tasks: list[TaskOut]


class OutcomeIn(BaseModel):
    """An interaction body; the contact is the task's."""

    model_config = ConfigDict(extra="forbid")

    id: UUID | None = Field(
        default=None, description="Optional client id; resending the same interaction is safe."
    )
    contact_id: UUID | None = Field(
        default=None, description="Implied by the task; when sent it must be the task's."
    )
    channel: Channel = Channel.call
    direction: Direction = Direction.outbound
    occurred_at: Instant
    outcome: Outcome
    reason_code: ReasonCode | None = None
    notes: Note | None = None
    agent: Ref | None = None
    promise: PromiseIn | None = None
    callback_at: Instant | None = None


class ReleaseOut(BaseModel):
    task_id: UUID
    released_at: datetime
