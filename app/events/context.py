"""What every step of applying a batch shares."""

from dataclasses import dataclass
from datetime import datetime

from app.auth import Principal
from app.events.parse import Incoming
from app.events.projection import AccountRow
from app.events.repository import EventRepository


@dataclass(frozen=True, slots=True)
class Seed:
    """A normalised contact from an `account.delinquent` or `contact.upserted` event."""

    kind: str
    value: str
    relationship: str
    label: str | None
    timezone: str | None
    status: str | None  # only when the event set it explicitly


@dataclass(slots=True)
class BatchContext:
    repo: EventRepository
    principal: Principal
    now: datetime
    policy_version: int  # in force for this batch, recorded on its audit and history rows
    accounts: dict[str, AccountRow]  # every touched account, by ref, once created

    @property
    def tenant_id(self) -> int:
        return self.principal.tenant_id

    def account_id(self, event: Incoming) -> int:
        return self.accounts[event.account_ref].id
