import base64
from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class WebhookEvent(StrEnum):
    account_tier_changed = "account.tier_changed"
    account_stage_changed = "account.stage_changed"
    promise_broken = "promise.broken"
    promise_kept = "promise.kept"
    payment_received = "payment.received"
    account_closed = "account.closed"


SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


def _secret(value: str) -> str:
    if not value.startswith(SECRET_PREFIX):
        raise ValueError(f"must start with {SECRET_PREFIX}")
    try:
        key = base64.b64decode(value[len(SECRET_PREFIX) :], validate=True)
    except ValueError:
        raise ValueError("must be whsec_ followed by base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError("the key must be 24 to 64 bytes")
    return value


def _unique(events: list[WebhookEvent]) -> list[WebhookEvent]:
    if len(set(events)) != len(events):
        raise ValueError("each event may be listed once")
    return events


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=2000,
        description="http(s) URL; private and loopback addresses are refused unless "
        "TACTFUL_WEBHOOK_ALLOW_PRIVATE is set.",
    )
    events: Annotated[list[WebhookEvent], AfterValidator(_unique)] = Field(
        min_length=1, max_length=len(WebhookEvent)
    )
    secret: Annotated[str, AfterValidator(_secret)] | None = Field(
        default=None,
        max_length=200,
        description="`whsec_` + base64 of 24..64 bytes; generated when absent.",
    )


class WebhookOut(BaseModel):
    id: UUID
    url: str
    events: list[str]
    status: str = Field(description="`active`, or `disabled` (e.g. the receiver answered 410).")
    disabled_reason: str | None
    partner: str | None
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret; shown only in this response.")


class DeliveryOut(BaseModel):
    id: UUID = Field(description="The `webhook-id` header, the same on every attempt.")
    event_type: str
    status: str = Field(description="`pending`, `delivered` or `failed` (retries exhausted).")
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
