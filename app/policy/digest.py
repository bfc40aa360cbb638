"""One pass over an account's facts: the counts and instants tiering and the ladder share."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from app.policy.facts import AccountFacts, EpisodeSummary, InteractionFact, PaymentFact
from app.policy.localtime import local_date
from app.policy.names import NOT_A_CONVERSATION


@dataclass(frozen=True, slots=True)
class Digest:
    """What the facts say as of `now` (facts dated after `now` are not yet known)."""

    today: date  # in the tenant's zone
    interactions: int
    attempts: int  # outbound calls, any contact
    conversations: int  # calls with a self contact that reached the debtor
    first_reminder_outcome: str | None  # outcome of the first outbound call to a self contact
    self_attempt_since: bool  # an outbound call to a self contact at/after `since`
    last_conversation_at: datetime | None
    last_payment_at: datetime | None
    next_fact_at: datetime | None  # earliest interaction or payment dated after `now`

    def last_reached_date(self, facts: AccountFacts) -> date:
        """The local day the "not reached" clock last restarted: the latest of the last
        conversation, the last payment and the episode start."""
        latest = facts.episode_started_at
        if self.last_conversation_at is not None and self.last_conversation_at > latest:
            latest = self.last_conversation_at
        if self.last_payment_at is not None and self.last_payment_at > latest:
            latest = self.last_payment_at
        return local_date(latest, facts.timezone)


def digest(facts: AccountFacts, now: datetime, since: datetime | None = None) -> Digest:
    if facts.summary is not None:
        return _from_summary(facts.summary, facts.timezone, now, since)
    interactions = attempts = conversations = 0
    first_at: datetime | None = None
    first_outcome: str | None = None
    self_since = False
    last_conversation: datetime | None = None
    future: datetime | None = None
    for it in facts.interactions:
        at = it.occurred_at
        if at > now:
            if future is None or at < future:
                future = at
            continue
        interactions += 1
        if it.channel != "call":
            continue
        is_self = it.relationship == "self"
        if it.direction == "outbound":
            attempts += 1
            if is_self:
                if (
                    first_at is None
                    or at < first_at
                    or (at == first_at and it.outcome < (first_outcome or ""))
                ):
                    first_at, first_outcome = at, it.outcome
                if since is not None and at >= since:
                    self_since = True
        if is_self and it.outcome not in NOT_A_CONVERSATION:
            conversations += 1
            if last_conversation is None or at > last_conversation:
                last_conversation = at
    last_payment: datetime | None = None
    for payment in facts.payments:
        at = payment.occurred_at
        if at > now:
            if future is None or at < future:
                future = at
        elif last_payment is None or at > last_payment:
            last_payment = at
    return Digest(
        today=local_date(now, facts.timezone),
        interactions=interactions,
        attempts=attempts,
        conversations=conversations,
        first_reminder_outcome=first_outcome,
        self_attempt_since=self_since,
        last_conversation_at=last_conversation,
        last_payment_at=last_payment,
        next_fact_at=future,
    )


def _from_summary(
    summary: EpisodeSummary, timezone: str, now: datetime, since: datetime | None
) -> Digest:
    if summary.latest_fact_at is not None and summary.latest_fact_at > now:
        raise ValueError("a summary with facts after now cannot stand for them; load the rows")
    last_self_call = summary.last_self_call_at
    return Digest(
        today=local_date(now, timezone),
        interactions=summary.interactions,
        attempts=summary.call_attempts,
        conversations=summary.conversations,
        first_reminder_outcome=summary.first_reminder_outcome,
        self_attempt_since=since is not None
        and last_self_call is not None
        and last_self_call >= since,
        last_conversation_at=summary.last_conversation_at,
        last_payment_at=summary.last_payment_at,
        next_fact_at=None,
    )


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


def summarize(
    interactions: Iterable[InteractionFact], payments: Iterable[PaymentFact]
) -> EpisodeSummary:
    """The summary of an episode's interactions and non-reversed payments (the definition
    the stored summary columns are kept equal to)."""
    count = attempts = conversations = 0
    first_at: datetime | None = None
    first_outcome: str | None = None
    last_self_call = last_conversation = last_payment = latest = None
    for it in interactions:
        at = it.occurred_at
        count += 1
        latest = _later(latest, at)
        if it.channel != "call":
            continue
        is_self = it.relationship == "self"
        if it.direction == "outbound":
            attempts += 1
            if is_self:
                last_self_call = _later(last_self_call, at)
                if first_at is None or (at, it.outcome) < (first_at, first_outcome or ""):
                    first_at, first_outcome = at, it.outcome
        if is_self and it.outcome not in NOT_A_CONVERSATION:
            conversations += 1
            last_conversation = _later(last_conversation, at)
    for payment in payments:
        last_payment = _later(last_payment, payment.occurred_at)
        latest = _later(latest, payment.occurred_at)
    return EpisodeSummary(
        count,
        attempts,
        conversations,
        first_at,
        first_outcome,
        last_self_call,
        last_conversation,
        last_payment,
        latest,
    )
