"""The order-safe projection of events onto an account (pure; no database).

Every event is kept, but an event moves the projection only where it is newer, by the key
(occurred_at, event id), than what the account already reflects:
- the latest balance-setting event (`account.delinquent`, `balance.adjusted`; also PUT, keyed
  "now" with an empty id) sets `base_balance` and `due_date`; the balance is then
  `base_balance` minus the non-reversed payments keyed after it (computed in SQL);
- the latest status event (`account.delinquent`, `account.cured`, `account.closed`,
  `account.charged_off`) sets `status`;
- the episode is counted over all of the account's status events in key order
  (`episode_of`): an account starts delinquent in episode 1 and each return to delinquency
  starts the next one, when its `account.delinquent` occurred, so a late status event
  dated between two others counts where it belongs;
- the latest `account.delinquent` that is also the latest balance-setting event refreshes the
  account's profile (debtor, principal, product, jurisdiction, partner).
So the projected balance, due date and status are functions of the set of events, whatever
order they arrived in.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.accounts.schemas import AccountData
from app.events.parse import Incoming, Key
from app.models.events import EventType

BALANCE_TYPES = frozenset({EventType.account_delinquent, EventType.balance_adjusted})
STATUS_OF: dict[EventType, str] = {
    EventType.account_delinquent: "delinquent",
    EventType.account_cured: "cured",
    EventType.account_closed: "closed",
    EventType.account_charged_off: "charged_off",
}


@dataclass(slots=True)
class AccountRow:
    """A locked account as the batch sees it, changed in memory, then written in one set."""

    id: int
    ref: str
    currency: str
    status: str
    partner: str | None
    jurisdiction: str
    debtor_id: int
    principal: int
    product: str
    stage: str | None
    episode: int
    base_balance: int
    balance_key: Key
    due_date: date
    status_key: Key | None
    created: bool = False  # inserted by this batch
    # What the batch decided (set by `project`):
    old_status: str = ""
    old_stage: str | None = None
    new_episode: bool = False  # `episode` grew (set by `recount_episode`)
    episode_started_at: datetime | None = None  # of the new episode: its delinquency event
    profile: Incoming | None = None  # the account.delinquent whose profile now applies
    events: list[Incoming] = field(default_factory=list)

    @classmethod
    def of(cls, row: Any) -> "AccountRow":
        """From a loaded row; a NULL base means "the stored balance, as of `updated_at`"."""
        base_key: Key = (row.balance_as_of_at or row.updated_at, row.balance_as_of_event or "")
        status_key: Key | None = None
        if row.status_as_of_at is not None:
            status_key = (row.status_as_of_at, row.status_as_of_event or "")
        return cls(
            id=row.id,
            ref=row.ref,
            currency=row.currency,
            status=row.status,
            partner=row.partner,
            jurisdiction=row.jurisdiction,
            debtor_id=row.debtor_id,
            principal=row.principal,
            product=row.product,
            stage=row.stage,
            episode=row.episode,
            base_balance=row.balance if row.base_balance is None else row.base_balance,
            balance_key=base_key,
            due_date=row.due_date,
            status_key=status_key,
        )

    @property
    def left_ladder(self) -> bool:
        return self.old_status == "delinquent" and self.status != "delinquent"


def project(account: AccountRow) -> None:
    """Fold the batch's applied events (`account.events`) into the account, newest key wins."""
    account.old_status, account.old_stage = account.status, account.stage
    for event in sorted(account.events, key=lambda e: e.key):
        if event.type in BALANCE_TYPES and event.key > account.balance_key:
            account.balance_key = event.key
            account.base_balance = event.data.balance
            account.due_date = event.data.due_date
            account.profile = event if event.type is EventType.account_delinquent else None
        status = STATUS_OF.get(event.type)
        if status is not None and (account.status_key is None or event.key > account.status_key):
            account.status, account.status_key = status, event.key
    if account.profile is not None:
        data: AccountData = account.profile.data
        account.principal, account.product = data.principal, data.product
        if data.jurisdiction is not None:
            account.jurisdiction = data.jurisdiction.value
        if data.partner is not None:
            account.partner = data.partner


def episode_of(history: list[tuple[Key, str]]) -> tuple[int, datetime | None]:
    """The episode an account's status events (key, status) make, in key order, and when the
    last return to delinquency occurred (None: still episode 1, which began with the account)."""
    episode, status, started = 1, "delinquent", None
    for key, next_status in sorted(history):
        if next_status == "delinquent" and status != "delinquent":
            episode, started = episode + 1, key[0]
        status = next_status
    return episode, started


def recount_episode(account: AccountRow, history: list[tuple[Key, str]], now: datetime) -> None:
    """Add the returns to delinquency this batch's events (`account.events`, also in
    `history`) make in the account's whole status history, wherever their keys fall. Counting
    the difference keeps an episode a `PUT` started (it is not an event). A late event can
    also move the current episode's start earlier without adding an episode."""
    mine = {event.id for event in account.events}
    before, started_before = episode_of([item for item in history if item[0][1] not in mine])
    after, started = episode_of(history)
    if started is None:
        return
    if after > before:
        account.episode, account.new_episode = account.episode + after - before, True
        account.episode_started_at = min(started, now)
    elif started_before is not None and started < started_before:
        account.episode_started_at = min(started, now)
