from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.fields import Ref, TimeZone
from app.models.enums import ContactKind, ContactStatus, Relationship


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ContactKind
    value: Annotated[str, Field(min_length=1, max_length=320, strict=True)]
    relationship: Relationship
    label: Ref | None = None
    status: ContactStatus = ContactStatus.active
    timezone: TimeZone | None = None


class ContactPatch(BaseModel):
    """Only the fields sent change. `do_not_contact` is final."""

    model_config = ConfigDict(extra="forbid")

    relationship: Relationship | None = None
    label: Ref | None = None
    status: ContactStatus | None = None
    timezone: TimeZone | None = None


class ContactOut(BaseModel):
    id: UUID
    kind: ContactKind
    value: str
    relationship: Relationship
    label: str | None
    status: ContactStatus
    timezone: str | None
