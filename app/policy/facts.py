"""What the policy decides from (facts) and what it decides (decisions). Plain data only."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

StageAction = Literal["stay", "advance", "blocked", "off_ladder"]
PromiseStatus = Literal["pending", "kept", "partially_kept", "broken", "cancelled"]


@dataclass(frozen=True, slots=True)
class InteractionFact:
    occurred_at: datetime
    outcome: str
    channel: str
    direction: str
    relationship: str  # of the contact: "self" or a third party
    reason_code: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentFact:
    occurred_at: datetime
    amount: int  # reversed payments are left out by the caller


@dataclass(frozen=True, slots=True)
class PromiseFact:
    id: str
    amount: int
    due_date: date
    created_at: datetime
    status: PromiseStatus = "pending"


@dataclass(frozen=True, slots=True)
class HoldFact:
    kind: str
    until: datetime | None = None  # None: until lifted


@dataclass(frozen=True, slots=True)
class EpisodeSummary:
    """What an episode's interactions and (non-reversed) payments amount to, kept on the
    account as they are written (`digest.summarize` defines it), so an evaluation need not
    read them. It stands for the rows only while none of them is dated after `now`."""

    interactions: int = 0
    call_attempts: int = 0  # outbound calls, any contact
    conversations: int = 0  # calls with a self contact that reached the debtor
    first_reminder_at: datetime | None = None  # the first outbound call to a self contact
    first_reminder_outcome: str | None = None  # its outcome (ties: the smallest outcome)
    last_self_call_at: datetime | None = None  # the latest outbound call to a self contact
    last_conversation_at: datetime | None = None
    last_payment_at: datetime | None = None
    latest_fact_at: datetime | None = None  # the latest interaction or payment


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """One account's current delinquency episode, as the evaluator loads it."""

    status: str  # delinquent | cured | closed | charged_off
    due_date: date
    balance: int
    stage: str | None
    stage_entered_at: datetime | None
    episode_started_at: datetime
    timezone: str  # the tenant's zone: "days" are its calendar days
    stops: frozenset[str] = frozenset()  # cease | bankruptcy | deceased
    holds: tuple[HoldFact, ...] = ()  # active (not lifted) holds
    interactions: tuple[InteractionFact, ...] = ()  # this episode, any order
    promises: tuple[PromiseFact, ...] = ()  # this episode
    payments: tuple[PaymentFact, ...] = ()  # this episode
    reason_code: str | None = None
    reason_verification: str | None = None  # claimed | verified | contradicted
    # When set, it stands for `interactions` (then empty) and, for the digest, `payments`
    # (then only those the promises need); valid only while `latest_fact_at` <= now.
    summary: EpisodeSummary | None = None


@dataclass(frozen=True, slots=True)
class TierDecision:
    tier: str  # A | B | C
    score: int  # 0 (hardest) .. 100 (easiest to recover)
    rules: tuple[str, ...]  # the rules that fired, in the order applied


@dataclass(frozen=True, slots=True)
class StageDecision:
    action: StageAction
    from_stage: str | None
    to_stage: str | None = None  # set when action == "advance"
    trigger: str | None = None  # the condition that fired, e.g. "dpd_at_least:8+no_pending_promise"
    blockers: tuple[str, ...] = ()  # e.g. ("hold:hardship", "pending_promise", "stop:bankruptcy")


@dataclass(frozen=True, slots=True)
class PromiseDecision:
    id: str
    status: PromiseStatus
    paid: int
    follow_up: str | None = None  # "collect" when a short payment arrives on/after the due date


@dataclass(frozen=True, slots=True)
class Evaluation:
    tier: TierDecision
    stage: StageDecision
    promises: tuple[PromiseDecision, ...] = field(default_factory=tuple)
    next_evaluation_at: datetime | None = None
