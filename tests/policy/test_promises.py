"""Promises to pay: every outcome, the grace boundary, late payments, the tenant's calendar."""

from datetime import UTC, date, datetime, timedelta

import pytest

from app.policy.document import DEFAULT_POLICY
from app.policy.facts import PaymentFact, PromiseDecision
from app.policy.promises import (
    check_new_promise,
    evaluate_promise,
    promise_due_start,
    promise_window_end,
)
from tests.policy.builders import NY, T0, days, ny, pay, policy, promise

DUE = date(2026, 11, 20)  # New York is on EST (UTC-5) all through the window
CREATED = T0  # 2026-11-02 10:00 New York
DUE_START = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
WINDOW_END = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)  # end of Nov 23, local
BEFORE_DUE = DUE_START - timedelta(days=3)
IN_GRACE = DUE_START + timedelta(days=2)
AFTER = WINDOW_END + timedelta(days=1)


def decide(
    payments: list[PaymentFact], now: datetime, amount: int = 10_000, status: str = "pending"
) -> PromiseDecision:
    fact = promise(DUE, amount, created=CREATED, status=status)
    return evaluate_promise(fact, payments, DEFAULT_POLICY, NY, now)


CASES = [
    # id, payments, now, (status, paid, follow_up)
    ("nothing_yet", [], BEFORE_DUE, ("pending", 0, None)),
    ("nothing_in_grace", [], IN_GRACE, ("pending", 0, None)),
    ("nothing_then_window_ends", [], WINDOW_END, ("broken", 0, None)),
    ("paid_in_full_early", [pay(BEFORE_DUE, 10_000)], BEFORE_DUE, ("kept", 10_000, None)),
    ("overpaid", [pay(BEFORE_DUE, 12_000)], AFTER, ("kept", 12_000, None)),
    (
        "instalments_reach_amount",
        [pay(BEFORE_DUE, 4_000), pay(DUE_START, 6_000)],
        IN_GRACE,
        ("kept", 10_000, None),
    ),
    ("paid_in_full_in_grace", [pay(IN_GRACE, 10_000)], AFTER, ("kept", 10_000, None)),
    ("short_before_due_waits", [pay(BEFORE_DUE, 4_000)], IN_GRACE, ("pending", 4_000, None)),
    (
        "short_before_due_then_window_ends",
        [pay(BEFORE_DUE, 4_000)],
        WINDOW_END,
        ("partially_kept", 4_000, None),
    ),
    (
        "short_on_due_date_is_partial_at_once",
        [pay(DUE_START, 4_000)],
        DUE_START,
        ("partially_kept", 4_000, "collect"),
    ),
    (
        "short_in_grace_is_partial_at_once",
        [pay(IN_GRACE, 4_000)],
        IN_GRACE,
        ("partially_kept", 4_000, "collect"),
    ),
    (
        "payment_before_the_promise_does_not_count",
        [pay(CREATED - timedelta(seconds=1), 10_000)],
        AFTER,
        ("broken", 0, None),
    ),
    ("payment_at_creation_counts", [pay(CREATED, 10_000)], CREATED, ("kept", 10_000, None)),
    (
        "payment_after_the_window_does_not_count",
        [pay(WINDOW_END, 10_000)],
        AFTER,
        ("broken", 0, None),
    ),
    (
        "payment_after_now_is_not_known_yet",
        [pay(IN_GRACE + timedelta(hours=1), 10_000)],
        IN_GRACE,
        ("pending", 0, None),
    ),
]


@pytest.mark.parametrize(
    ("payments", "now", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_promise_outcomes(
    payments: list[PaymentFact], now: datetime, expected: tuple[str, int, str | None]
) -> None:
    decision = decide(payments, now)
    assert (decision.status, decision.paid, decision.follow_up) == expected
    assert decision.id == "p1"


def test_cancelled_stays_cancelled() -> None:
    decision = decide([pay(BEFORE_DUE, 10_000)], AFTER, status="cancelled")
    assert (decision.status, decision.paid) == ("cancelled", 10_000)


@pytest.mark.parametrize("stored", ["kept", "broken", "partially_kept"])
def test_stored_status_is_ignored_and_recomputed(stored: str) -> None:
    assert decide([pay(IN_GRACE, 10_000)], AFTER, status=stored).status == "kept"
    assert decide([], AFTER, status=stored).status == "broken"


def test_late_arriving_payment_dated_in_the_window_turns_broken_into_kept() -> None:
    assert decide([], AFTER).status == "broken"
    # the platform reports, after the window, a payment made inside it
    assert decide([pay(IN_GRACE, 10_000)], AFTER).status == "kept"
    assert decide([pay(IN_GRACE, 3_000)], AFTER).status == "partially_kept"


def test_grace_boundary_is_the_end_of_the_local_day() -> None:
    last_moment = WINDOW_END - timedelta(microseconds=1)  # 23:59:59.999999 on Nov 23 in NY
    assert ny(2026, 11, 23, 23, 59, 59) < last_moment
    assert decide([], last_moment).status == "pending"
    assert decide([], WINDOW_END).status == "broken"
    assert decide([pay(last_moment)], AFTER).status == "kept"
    assert decide([pay(WINDOW_END)], AFTER).status == "broken"


def test_window_end_crosses_daylight_saving_by_calendar_days() -> None:
    # Due Friday 2026-03-06 (EST, UTC-5); grace runs through Monday 03-09, after the clocks
    # moved forward on Sunday 03-08: the window ends at midnight EDT (UTC-4), 04:00 UTC.
    due = date(2026, 3, 6)
    assert promise_due_start(due, NY) == datetime(2026, 3, 6, 5, 0, tzinfo=UTC)
    end = promise_window_end(due, DEFAULT_POLICY, NY)
    assert end == datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
    assert end - promise_due_start(due, NY) == timedelta(days=4) - timedelta(hours=1)
    fact = promise(due, created=datetime(2026, 3, 1, tzinfo=UTC))
    before = end - timedelta(seconds=1)
    assert evaluate_promise(fact, [], DEFAULT_POLICY, NY, before).status == "pending"
    assert evaluate_promise(fact, [], DEFAULT_POLICY, NY, end).status == "broken"
    # fall back: due Friday 2026-10-30, window ends after Monday 11-02 at midnight EST
    end = promise_window_end(date(2026, 10, 30), DEFAULT_POLICY, NY)
    assert end == datetime(2026, 11, 3, 5, 0, tzinfo=UTC)


def test_window_uses_the_tenants_zone() -> None:
    assert promise_window_end(DUE, DEFAULT_POLICY, "Asia/Shanghai") == datetime(
        2026, 11, 23, 16, 0, tzinfo=UTC
    )
    assert promise_window_end(DUE, DEFAULT_POLICY, "UTC") == datetime(
        2026, 11, 24, 0, 0, tzinfo=UTC
    )


def test_grace_days_come_from_the_policy() -> None:
    strict = policy(promises={"grace_days": 0, "max_days_ahead": 30})
    assert promise_window_end(DUE, strict, NY) == datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
    fact = promise(DUE, created=CREATED)
    assert evaluate_promise(fact, [], strict, NY, IN_GRACE).status == "broken"
    assert evaluate_promise(fact, [], DEFAULT_POLICY, NY, IN_GRACE).status == "pending"


NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # still Nov 27, 22:00, in New York


@pytest.mark.parametrize(
    ("amount", "due", "refusal"),
    [
        (10_000, date(2026, 11, 27), None),  # today, local
        (10_000, date(2026, 11, 26), "due_date_in_past"),
        (10_000, date(2026, 12, 27), None),  # exactly 30 days ahead
        (10_000, date(2026, 12, 28), "due_date_too_far_ahead"),
        (0, date(2026, 12, 1), "amount_not_positive"),
        (-5, date(2026, 12, 1), "amount_not_positive"),
    ],
)
def test_check_new_promise(amount: int, due: date, refusal: str | None) -> None:
    assert check_new_promise(amount, due, DEFAULT_POLICY, NY, NOW) == refusal


def test_check_new_promise_uses_the_local_day_and_the_policy_horizon() -> None:
    # In Shanghai it is already Nov 28: a promise due Nov 27 is in the past there.
    shanghai = "Asia/Shanghai"
    assert check_new_promise(1, date(2026, 11, 27), DEFAULT_POLICY, shanghai, NOW) == (
        "due_date_in_past"
    )
    short = policy(promises={"grace_days": 3, "max_days_ahead": 7})
    assert check_new_promise(1, date(2026, 12, 4), short, NY, NOW) is None
    assert check_new_promise(1, date(2026, 12, 5), short, NY, NOW) == "due_date_too_far_ahead"


def test_negative_amounts_reduce_what_was_paid() -> None:
    # the caller leaves reversed payments out; a correction entry still adds up honestly
    decision = decide([pay(BEFORE_DUE, 10_000), pay(BEFORE_DUE + days(1), -1_000)], AFTER)
    assert (decision.status, decision.paid) == ("partially_kept", 9_000)
