"""The one source of "now".

Live tenants follow real time; a sandbox tenant follows real time until its test clock is
set, then that frozen instant (moved only forward). Nothing else calls datetime.now().
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


def system_now() -> datetime:
    return datetime.now(UTC)


class ClockedTenant(Protocol):
    timezone: str
    sandbox: bool
    clock_frozen_at: datetime | None


@dataclass(frozen=True, slots=True)
class TenantClock:
    timezone: str
    sandbox: bool = False
    frozen_at: datetime | None = None

    @classmethod
    def of(cls, tenant: ClockedTenant) -> "TenantClock":
        return cls(tenant.timezone, tenant.sandbox, tenant.clock_frozen_at)

    def now(self) -> datetime:
        if self.sandbox and self.frozen_at is not None:
            return self.frozen_at
        return system_now()

    def today(self) -> date:
        return self.now().astimezone(ZoneInfo(self.timezone)).date()
