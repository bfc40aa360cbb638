"""What the contact rules decide from, and what they decide. Plain data only.

`app.policy.contact_rules.decide_contact` reads these; `app.eligibility.repository` loads them
in bulk; the dialer adds its live leases to `CallRecord` history with `CallRecord.lease`.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from app.policy.names import NOT_A_CONVERSATION

# Outcomes that mean nobody picked up (or the number is wrong): a failed attempt.
FAILED_OUTCOMES: Final[frozenset[str]] = frozenset(
    {"no_answer", "busy", "voicemail", "wrong_number"}
)
# Outcomes of an attempt that reached nobody, for the per-number unanswered cap.
UNANSWERED_OUTCOMES: Final[frozenset[str]] = frozenset({"no_answer", "busy", "voicemail"})
# Contact statuses under which a debtor's number counts as invalid.
INVALID_CONTACT_STATUSES: Final[frozenset[str]] = frozenset({"wrong_number", "unreachable"})


@dataclass(frozen=True, slots=True)
class ContactFacts:
    """One contact of an account (policy.md: identified by account, kind, normalised value)."""

    id: str  # the contact's UUID as text
    relationship: str  # self | spouse | parent | child | relative | friend | colleague | ...
    kind: str  # phone | email | address: only phones are called
    status: str  # active | wrong_number | unreachable | do_not_contact
    timezone: str | None = None

    @property
    def is_third_party(self) -> bool:
        return self.relationship != "self"


@dataclass(frozen=True, slots=True)
class AccountContactFacts:
    """The account side of a contact decision: one debt, its debtor, its contacts.

    `stops` are the debtor's: any of `cease`, `bankruptcy`, `deceased` (they stop every account
    of that debtor). `holds` are the kinds of the account's active holds (not lifted, not past
    `until`). `contacts` lists every contact of the account: third-party rules look at the
    debtor's own numbers.
    """

    account_id: int
    jurisdiction: str  # us_reg_f | cn_nifa | uk_fca
    status: str  # delinquent | cured | closed | charged_off
    stage: str | None
    tier: str | None  # None before the first evaluation: cadence as tier B
    debtor_timezone: str | None
    stops: frozenset[str] = frozenset()
    holds: frozenset[str] = frozenset()
    contacts: tuple[ContactFacts, ...] = ()
    locale: str = "en"  # the debtor's, for talking points
    account_ref: str = ""
    balance: int = 0
    pending_promise_due: date | None = None  # the due date of the pending promise, if any


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A call on the account: an outbound attempt or an inbound call, or a live lease.

    `outcome` is None for a live lease: it counts as an attempt (never a conversation) until
    released unused (policy.md, Definitions). `direction` inbound calls are never attempts but
    are conversations when they reach the debtor.
    """

    contact_id: str
    relationship: str
    occurred_at: datetime
    outcome: str | None
    direction: str = "outbound"

    @classmethod
    def lease(cls, contact_id: str, relationship: str, leased_at: datetime) -> "CallRecord":
        """A live lease of a call to this contact, counted as an attempt from `leased_at`."""
        return cls(contact_id, relationship, leased_at, None, "outbound")

    @property
    def is_attempt(self) -> bool:
        return self.direction == "outbound"

    @property
    def is_conversation(self) -> bool:
        """A right-party contact: a call with a `self` contact that reached the debtor."""
        return (
            self.relationship == "self"
            and self.outcome is not None
            and self.outcome not in NOT_A_CONVERSATION
        )


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """One rule's verdict for a contact at an instant.

    `next_at` (only when blocked) is the earliest instant this rule alone lets the call through,
    None when no passing of time does (a stop, a status, a missing condition).
    """

    rule: str
    allowed: bool
    detail: str
    next_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ContactDecision:
    """`allowed` for a lease [at, at + lease_seconds); `rules` names every blocking rule.

    `next_allowed_at` is `at` when allowed, else the earliest later instant at which the same
    history allows the call, or None when no instant does (within the search horizon).
    `checks` holds every rule evaluated at `at`, passing or not, with a human sentence.
    """

    contact_id: str
    at: datetime
    allowed: bool
    next_allowed_at: datetime | None
    rules: tuple[str, ...]
    checks: tuple[RuleCheck, ...]

    @property
    def explanation(self) -> str:
        if self.allowed:
            return "Allowed: every contact rule passes for the whole lease."
        return " ".join(c.detail for c in self.checks if not c.allowed)
