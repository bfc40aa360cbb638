from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEntryOut(BaseModel):
    id: int
    occurred_at: datetime
    actor: str
    entity: str
    entity_id: str
    action: str
    policy_version: int | None
    request_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
