"""Tiering: every default rule and override, recomputed from facts every time."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from app.policy.document import DEFAULT_POLICY
from app.policy.facts import PromiseDecision
from app.policy.names import OUTCOMES
from app.policy.tiering import decide_tier
from tests.policy.builders import T0, account, call, days, ny, pay, policy, promise

NOW = T0 + days(3)
FIRST = T0 + timedelta(hours=1)


def tier(**facts: Any) -> tuple[str, tuple[str, ...]]:
    now = facts.pop("now", NOW)
    decision = decide_tier(account(**facts), DEFAULT_POLICY, now)
    return decision.tier, decision.rules


def test_before_any_interaction_b_not_yet_contacted() -> None:
    decision = decide_tier(account(), DEFAULT_POLICY, NOW)
    assert (decision.tier, decision.score, decision.rules) == ("B", 50, ("not_yet_contacted",))


def test_an_interaction_dated_after_now_is_not_known_yet() -> None:
    assert tier(interactions=(call(NOW + days(1), "refused"),)) == ("B", ("not_yet_contacted",))


REMINDER_TIERS = {
    "promise_to_pay": "A",
    "reached_debtor": "B",
    "callback_requested": "B",
    "claims_paid": "B",
    "hardship": "B",
    "refused": "C",
    "wrong_number": "C",
}


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_base_tier_from_the_first_reminder_outcome(outcome: str) -> None:
    expected = REMINDER_TIERS.get(outcome, "B")  # no_answer, busy, voicemail...: B
    assert tier(interactions=(call(FIRST, outcome),)) == (
        expected,
        (f"reminder_outcome:{outcome}",),
    )


def test_the_first_reminder_call_is_the_earliest_whatever_the_tuple_order() -> None:
    calls = (call(FIRST + days(1), "promise_to_pay"), call(FIRST, "refused"))
    assert tier(interactions=calls)[0] == "C"
    assert tier(interactions=calls[::-1])[0] == "C"


@pytest.mark.parametrize(
    "first",
    [
        call(FIRST, "refused", direction="inbound"),
        call(FIRST, "refused", relationship="spouse"),
        call(FIRST, "refused", channel="sms"),
    ],
    ids=["inbound", "third_party", "sms"],
)
def test_only_an_outbound_call_to_the_debtor_is_a_reminder_call(first: Any) -> None:
    assert tier(interactions=(first,)) == ("B", ("no_reminder_call",))
    assert tier(interactions=(first, call(FIRST + days(1), "promise_to_pay")))[0] == "A"


REASONS = [
    ("short_payment", "A"),
    ("payment_channel_error", "A"),
    ("family_change", "B"),
    ("income_loss", "B"),
    ("medical", "B"),
    ("disaster", "B"),
]


@pytest.mark.parametrize(("reason", "expected"), REASONS)
@pytest.mark.parametrize("base_outcome", ["promise_to_pay", "no_answer", "refused"])
def test_a_reason_leaning_overrides_the_base(reason: str, expected: str, base_outcome: str) -> None:
    decided = tier(interactions=(call(FIRST, base_outcome),), reason_code=reason)
    assert decided == (expected, (f"reminder_outcome:{base_outcome}", f"reason:{reason}"))


@pytest.mark.parametrize("reason", ["dispute", "other", "unknown"])
def test_reasons_without_a_leaning_keep_the_base(reason: str) -> None:
    assert tier(interactions=(call(FIRST, "promise_to_pay"),), reason_code=reason)[0] == "A"


def test_wilful_default_leans_c_and_overrides_everything() -> None:
    kept = promise(date(2026, 11, 4), created=FIRST)
    decided = tier(
        interactions=(call(FIRST, "promise_to_pay"),),
        reason_code="wilful_default",
        promises=(kept,),
        payments=(pay(FIRST + days(1), 10_000),),
    )
    assert decided == (
        "C",
        (
            "reminder_outcome:promise_to_pay",
            "reason:wilful_default",
            "promise_kept",
            "override:wilful_default",
        ),
    )


def test_a_contradicted_reason_is_ignored() -> None:
    calls = (call(FIRST, "promise_to_pay"),)
    assert tier(interactions=calls, reason_code="wilful_default")[0] == "C"
    assert tier(
        interactions=calls, reason_code="wilful_default", reason_verification="contradicted"
    ) == ("A", ("reminder_outcome:promise_to_pay",))
    assert tier(interactions=calls, reason_code="short_payment", reason_verification="verified")[
        0
    ] == ("A")


def test_a_tenant_may_soften_wilful_default() -> None:
    leanings = dict(DEFAULT_POLICY.tiering.reason_leanings)
    leanings["wilful_default"] = "B"
    tiering = DEFAULT_POLICY.tiering.model_dump(mode="json") | {"reason_leanings": leanings}
    softer = policy(tiering=tiering)
    facts = account(interactions=(call(FIRST, "promise_to_pay"),), reason_code="wilful_default")
    assert decide_tier(facts, softer, NOW).rules == (
        "reminder_outcome:promise_to_pay",
        "reason:wilful_default",
    )


# Promise steps. Promise n is made 10n days after the first call and due 2 days later, so
# the windows never overlap; all are decided by LATER.
LATER = T0 + days(90)


def _promise(n: int, kept: bool) -> tuple[Any, list[Any]]:
    created = FIRST + days(10 * n)
    fact = promise(date(2026, 11, 4) + days(10 * n), created=created, id=f"p{n}")
    paid = [pay(created + timedelta(seconds=1), 10_000)] if kept else []
    return fact, paid


def stepped(base_outcome: str, *kept: bool) -> tuple[str, tuple[str, ...]]:
    made = [_promise(n, k) for n, k in enumerate(kept)]
    facts = account(
        interactions=(call(FIRST, base_outcome),),
        promises=tuple(p for p, _ in made),
        payments=tuple(x for _, paid in made for x in paid),
    )
    decision = decide_tier(facts, DEFAULT_POLICY, LATER)
    return decision.tier, decision.rules[1:]


@pytest.mark.parametrize(
    ("base", "history", "expected"),
    [
        ("reached_debtor", (True,), ("A", ("promise_kept",))),
        ("promise_to_pay", (True,), ("A", ("promise_kept",))),  # clamped at A
        ("refused", (True,), ("B", ("promise_kept",))),
        ("refused", (True, True), ("A", ("promise_kept", "promise_kept"))),
        ("reached_debtor", (False,), ("C", ("promise_broken",))),
        ("promise_to_pay", (False,), ("B", ("promise_broken",))),
        # in order of due date: kept then broken from A → A (clamped) → B
        ("promise_to_pay", (True, False), ("B", ("promise_kept", "promise_broken"))),
        # broken then kept from A → B → A
        ("promise_to_pay", (False, True), ("A", ("promise_broken", "promise_kept"))),
        (
            "promise_to_pay",
            (False, True, False),
            ("C", ("promise_broken", "promise_kept", "promise_broken", "override:broken_promises")),
        ),
    ],
)
def test_one_step_per_kept_or_broken_promise(
    base: str, history: tuple[bool, ...], expected: tuple[str, tuple[str, ...]]
) -> None:
    assert stepped(base, *history) == expected


def test_two_broken_promises_make_c() -> None:
    assert stepped("promise_to_pay", False, False) == (
        "C",
        ("promise_broken", "promise_broken", "override:broken_promises"),
    )


def test_partially_kept_pending_and_cancelled_promises_do_not_move_the_tier() -> None:
    partial = promise(date(2026, 11, 4), 10_000, created=FIRST, id="partial")
    pending = promise(date(2026, 11, 30), created=FIRST, id="pending")
    cancelled = promise(date(2026, 11, 5), created=FIRST, id="cancelled", status="cancelled")
    facts = account(
        interactions=(call(FIRST, "reached_debtor"),),
        promises=(partial, pending, cancelled),
        payments=(pay(FIRST + days(1), 4_000),),
    )
    decision = decide_tier(facts, DEFAULT_POLICY, LATER)
    assert (decision.tier, decision.rules) == ("B", ("reminder_outcome:reached_debtor",))


def test_promise_status_comes_from_payments_not_from_storage() -> None:
    stale = promise(date(2026, 11, 4), created=FIRST, status="pending")
    facts = account(interactions=(call(FIRST, "reached_debtor"),), promises=(stale,))
    assert decide_tier(facts, DEFAULT_POLICY, LATER).rules[-1] == "promise_broken"
    # ...unless the caller hands in decisions already made
    given = (PromiseDecision("p1", "kept", 10_000),)
    assert decide_tier(facts, DEFAULT_POLICY, LATER, promises=given).tier == "A"


def test_unreachable_after_the_first_week_makes_c() -> None:
    attempts = tuple(call(T0 + days(n), "no_answer") for n in range(3))
    at_day_7 = ny(2026, 11, 9)  # the episode started on Nov 2, local
    assert tier(interactions=attempts, now=at_day_7 - timedelta(seconds=1))[0] == "B"
    assert tier(interactions=attempts, now=at_day_7) == (
        "C",
        ("reminder_outcome:no_answer", "override:unreachable"),
    )


def test_unreachable_needs_an_attempt_and_no_conversation() -> None:
    late = T0 + days(30)
    assert tier(interactions=(call(T0, "no_answer", channel="sms"),), now=late)[0] == "B"
    reached = (call(T0, "no_answer"), call(T0 + days(1), "reached_debtor", direction="inbound"))
    assert tier(interactions=reached, now=late)[0] == "B"
    # an attempt to a reference counts as an attempt; reaching the reference is no conversation
    third = (call(T0, "reached_third_party", relationship="parent"),)
    assert tier(interactions=third, now=late) == ("C", ("no_reminder_call", "override:unreachable"))


def test_unreachable_counts_local_calendar_days_across_daylight_saving() -> None:
    # Episode starts Mon 2026-03-02 23:30 EST; the clocks spring forward on Sun 03-08.
    # Seven local days have passed at Mon 03-09 00:00 EDT, only 5 d 23 h 30 min later.
    start = ny(2026, 3, 2, 23, 30)
    facts = account(
        episode_started_at=start, stage_entered_at=start, interactions=(call(start, "busy"),)
    )
    crossing = ny(2026, 3, 9)
    assert crossing.astimezone(UTC) - start == timedelta(days=5, hours=23, minutes=30)
    assert decide_tier(facts, DEFAULT_POLICY, crossing).tier == "C"
    assert decide_tier(facts, DEFAULT_POLICY, crossing - timedelta(seconds=1)).tier == "B"


def test_unreachable_days_come_from_the_policy() -> None:
    tiering = DEFAULT_POLICY.tiering.model_dump(mode="json") | {"unreachable_days_for_c": 2}
    quick = policy(tiering=tiering)
    facts = account(interactions=(call(T0, "no_answer"),))
    assert decide_tier(facts, quick, ny(2026, 11, 4)).tier == "C"
    assert decide_tier(facts, DEFAULT_POLICY, ny(2026, 11, 4)).tier == "B"


@pytest.mark.parametrize(
    ("facts", "score"),
    [
        ({}, 50),
        ({"interactions": (call(FIRST, "no_answer"),)}, 50),
        ({"interactions": (call(FIRST, "reached_debtor"),)}, 54),
        ({"interactions": (call(FIRST, "promise_to_pay"),)}, 84),
        ({"interactions": (call(FIRST, "refused"),)}, 24),
        (
            {
                "interactions": (call(FIRST, "promise_to_pay"),),
                "reason_code": "short_payment",
                "reason_verification": "verified",
            },
            87,
        ),
    ],
)
def test_score_is_deterministic_and_within_the_tier_band(facts: dict[str, Any], score: int) -> None:
    decision = decide_tier(account(**facts), DEFAULT_POLICY, NOW)
    assert decision.score == score
    low, high = {"A": (66, 94), "B": (36, 64), "C": (6, 34)}[decision.tier]
    assert low <= decision.score <= high


def test_score_adjustment_is_clamped() -> None:
    made = [_promise(n, True) for n in range(6)]
    facts = account(
        interactions=(call(FIRST, "promise_to_pay"),),
        promises=tuple(p for p, _ in made),
        payments=tuple(x for _, paid in made for x in paid),
    )
    assert decide_tier(facts, DEFAULT_POLICY, LATER).score == 94


def test_the_tenant_zone_decides_the_day_count() -> None:
    # T0 is Nov 2 both in UTC and in New York; Nov 9 04:00 UTC is still Nov 8 in New York.
    now = datetime(2026, 11, 9, 4, 0, tzinfo=UTC)
    attempts = (call(T0, "no_answer"),)
    assert decide_tier(account(interactions=attempts), DEFAULT_POLICY, now).tier == "B"
    in_utc = account(interactions=attempts, timezone="UTC")
    assert decide_tier(in_utc, DEFAULT_POLICY, now).tier == "C"
