"""One raw batch item → a validated event, or the problem that rejects it (no database)."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from app.errors import AppError, ValidationFailed, field_error, invalid
from app.events.schemas import DATA_MODELS, MAX_FUTURE_SECONDS, Envelope
from app.models.events import EventType

# Events are ordered by (occurred_at, id): the projection follows this order, not arrival.
Key = tuple[datetime, str]


@dataclass(frozen=True, slots=True)
class Incoming:
    index: int  # position in the request
    id: str
    type: EventType
    account_ref: str
    occurred_at: datetime
    data: Any  # the validated `data` model of the type (see DATA_MODELS)
    raw_data: dict[str, Any]  # `data` as sent, stored with the event
    digest: bytes  # SHA-256 of the whole event's canonical JSON

    @property
    def key(self) -> Key:
        return (self.occurred_at, self.id)

    def loc(self, *path: str | int) -> list[str | int]:
        return ["body", "events", self.index, *path]


def content_digest(item: Any) -> bytes:
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).digest()


def sent_id(item: Any) -> str | None:
    """The id to echo in the result, when the item has a string one."""
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        return str(item["id"])
    return None


def _errors(exc: ValidationError, prefix: list[str | int]) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        loc = [*prefix, *(p if isinstance(p, int) else str(p) for p in err.get("loc", ()))]
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "missing":
            msg = "field required"
        elif err.get("type") == "enum" and loc[-1] == "type" and len(loc) == len(prefix) + 1:
            msg = "unknown event type"
        errors.append(field_error(loc, msg))
    return errors


def _failed(errors: list[dict[str, Any]]) -> ValidationFailed:
    fields = ", ".join(".".join(str(p) for p in e["loc"][3:]) for e in errors[:5])
    return ValidationFailed(f"The event is invalid: {fields or 'event'}.", errors=errors)


def parse(index: int, item: Any, now: datetime) -> Incoming | AppError:
    prefix: list[str | int] = ["body", "events", index]
    if not isinstance(item, dict):
        return invalid(prefix, "an event must be a JSON object")
    try:
        envelope = Envelope.model_validate(item)
    except ValidationError as exc:
        return _failed(_errors(exc, prefix))
    try:
        data: BaseModel = DATA_MODELS[envelope.type].model_validate(envelope.data)
    except ValidationError as exc:
        return _failed(_errors(exc, [*prefix, "data"]))
    if envelope.occurred_at > now + timedelta(seconds=MAX_FUTURE_SECONDS):
        return invalid([*prefix, "occurred_at"], "more than 5 minutes in the future")
    return Incoming(
        index=index,
        id=envelope.id,
        type=envelope.type,
        account_ref=envelope.account_ref,
        occurred_at=envelope.occurred_at,
        data=data,
        raw_data=envelope.data,
        digest=content_digest(item),
    )
