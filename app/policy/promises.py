"""Promises to pay (policy.md, "Promises to pay"), recomputed from payments every time.

Payments count by `occurred_at`, from the promise's creation until the end of the local day
due_date + grace_days in the tenant's zone, and only those at or before `now`:
- they reach the amount → `kept`;
- short, but one of them fell on or after the due date (local) → `partially_kept` at once,
  with a `collect` follow-up;
- short once the window has ended → `partially_kept` if anything was paid, else `broken`;
- otherwise `pending`. A `cancelled` promise stays cancelled.
Because nothing is remembered between evaluations, a late-arriving payment dated inside the
window turns a `broken` promise into `partially_kept` or `kept`.
"""

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from app.policy.compiled import compiled
from app.policy.document import PolicyDocument
from app.policy.facts import PaymentFact, PromiseDecision, PromiseFact
from app.policy.localtime import end_of_day, local_date, start_of_day

COLLECT = "collect"
DUE_DATE_IN_PAST = "due_date_in_past"
DUE_DATE_TOO_FAR_AHEAD = "due_date_too_far_ahead"
AMOUNT_NOT_POSITIVE = "amount_not_positive"


def promise_due_start(due_date: date, timezone: str) -> datetime:
    """The first instant of the due date in the tenant's zone (UTC)."""
    return start_of_day(due_date, timezone)


def promise_window_end(due_date: date, policy: PolicyDocument, timezone: str) -> datetime:
    """The first instant after due_date + grace_days in the tenant's zone (UTC): payments
    before it count; at it an unpaid promise is broken."""
    return _window_end(due_date, compiled(policy).grace_days, timezone)


def _window_end(due_date: date, grace_days: int, timezone: str) -> datetime:
    return end_of_day(due_date + timedelta(days=grace_days), timezone)


def evaluate_promise(
    promise: PromiseFact,
    payments: Sequence[PaymentFact],
    policy: PolicyDocument,
    timezone: str,
    now: datetime,
) -> PromiseDecision:
    return decide_promise(promise, payments, compiled(policy).grace_days, timezone, now)


def decide_promise(
    promise: PromiseFact,
    payments: Sequence[PaymentFact],
    grace_days: int,
    timezone: str,
    now: datetime,
) -> PromiseDecision:
    """`evaluate_promise` with the grace period already read from the policy."""
    window_end = _window_end(promise.due_date, grace_days, timezone)
    due_start = start_of_day(promise.due_date, timezone)
    opened = promise.created_at
    paid = 0
    on_or_after_due = False
    for payment in payments:
        at = payment.occurred_at
        if opened <= at < window_end and at <= now:
            paid += payment.amount
            if at >= due_start:
                on_or_after_due = True
    if promise.status == "cancelled":
        return PromiseDecision(promise.id, "cancelled", paid)
    if paid >= promise.amount:
        return PromiseDecision(promise.id, "kept", paid)
    if on_or_after_due and paid > 0:
        return PromiseDecision(promise.id, "partially_kept", paid, COLLECT)
    if now >= window_end:
        return PromiseDecision(promise.id, "partially_kept" if paid > 0 else "broken", paid)
    return PromiseDecision(promise.id, "pending", paid)


def decide_promises(
    promises: Sequence[PromiseFact],
    payments: Sequence[PaymentFact],
    grace_days: int,
    timezone: str,
    now: datetime,
) -> tuple[PromiseDecision, ...]:
    """One decision per promise, in the order given."""
    return tuple(decide_promise(p, payments, grace_days, timezone, now) for p in promises)


def check_new_promise(
    amount: int, due_date: date, policy: PolicyDocument, timezone: str, now: datetime
) -> str | None:
    """Why a promise offered now would be refused, or None when it is acceptable.

    The due date may be today (local) up to `promises.max_days_ahead` days ahead.
    """
    if amount <= 0:
        return AMOUNT_NOT_POSITIVE
    today = local_date(now, timezone)
    if due_date < today:
        return DUE_DATE_IN_PAST
    if (due_date - today).days > compiled(policy).max_days_ahead:
        return DUE_DATE_TOO_FAR_AHEAD
    return None
