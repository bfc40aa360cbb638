from dataclasses import dataclass

from app.auth import Principal
from app.clock import TenantClock


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is changing state, for which tenant, on which clock (a key, the evaluator, the CLI)."""

    tenant_id: int
    clock: TenantClock
    name: str
    request_id: str | None = None

    @classmethod
    def of(cls, principal: Principal, request_id: str | None = None) -> "Actor":
        return cls(principal.tenant_id, principal.clock, principal.actor, request_id)
