"""evaluate(): promises feed tier and ladder; when to evaluate next; idempotence."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from app.policy.document import DEFAULT_POLICY
from app.policy.evaluation import evaluate
from app.policy.facts import AccountFacts, Evaluation
from tests.policy.builders import account, call, days, hold, pay, promise

NOW = datetime(2026, 12, 15, 17, 0, tzinfo=UTC)  # 12:00 in New York
TODAY = date(2026, 12, 15)
TICK = timedelta(microseconds=1)


def midnight(day: date) -> datetime:
    """Local midnight starting `day` in New York (EST all December), in UTC."""
    return datetime(day.year, day.month, day.day, 5, 0, tzinfo=UTC)


def apply(facts: AccountFacts, result: Evaluation, now: datetime) -> AccountFacts:
    """What the service stores after an evaluation."""
    if result.stage.action == "advance":
        return replace(facts, stage=result.stage.to_stage, stage_entered_at=now)
    return facts


def test_promises_are_decided_first_and_feed_tier_and_ladder() -> None:
    made = promise(TODAY - days(10), created=NOW - days(20))  # window ended a week ago
    facts = account(
        stage="early",
        stage_entered_at=NOW - days(8),
        episode_started_at=NOW - days(21),
        due_date=TODAY - days(4),
        interactions=(call(NOW - days(20), "promise_to_pay"),),
        promises=(made,),
    )
    result = evaluate(facts, DEFAULT_POLICY, NOW)
    assert [(d.id, d.status) for d in result.promises] == [("p1", "broken")]
    assert (result.tier.tier, result.tier.rules) == (
        "B",
        ("reminder_outcome:promise_to_pay", "promise_broken"),
    )
    assert (result.stage.action, result.stage.trigger) == ("advance", "broken_promises_at_least:1")


def test_the_new_tier_sets_the_dwell() -> None:
    # wrong number at the first call: tier C, so 7 × 0.5 = 3.5 days in `early` are enough
    facts = account(
        stage="early",
        stage_entered_at=NOW - days(3.5),
        episode_started_at=NOW - days(4),
        due_date=TODAY - days(9),
        interactions=(call(NOW - days(4), "wrong_number"),),
    )
    result = evaluate(facts, DEFAULT_POLICY, NOW)
    assert (result.tier.tier, result.stage.action) == ("C", "advance")


def test_evaluating_again_at_the_same_now_changes_nothing() -> None:
    facts = account(
        stage="reminder",
        stage_entered_at=NOW - days(2),
        episode_started_at=NOW - days(2),
        due_date=TODAY - days(40),
        interactions=(call(NOW - days(1), "reached_debtor"),),
    )
    first = evaluate(facts, DEFAULT_POLICY, NOW)
    assert first.stage.to_stage == "early"
    stored = apply(facts, first, NOW)
    second = evaluate(stored, DEFAULT_POLICY, NOW)
    assert second.stage.action == "stay"
    assert second.tier == first.tier
    assert second.promises == first.promises
    assert second.next_evaluation_at == first.next_evaluation_at == NOW + days(7)


def test_next_evaluation_is_the_dwell_end_once_the_trigger_holds() -> None:
    facts = account(stage="reassigned", stage_entered_at=NOW - days(3), due_date=TODAY - days(70))
    assert evaluate(facts, DEFAULT_POLICY, NOW).next_evaluation_at == NOW + days(11)


def test_next_evaluation_is_the_midnight_a_dpd_threshold_is_crossed() -> None:
    # reassigned for 20 days at 50 DPD: the trigger (61) is reached on Dec 26, local
    facts = account(stage="reassigned", stage_entered_at=NOW - days(20), due_date=TODAY - days(50))
    assert evaluate(facts, DEFAULT_POLICY, NOW).next_evaluation_at == midnight(date(2026, 12, 26))


def test_next_evaluation_is_the_midnight_the_not_reached_counter_crosses() -> None:
    facts = account(
        stage="network",
        stage_entered_at=NOW - days(10),
        episode_started_at=NOW - days(25),
        due_date=TODAY - days(25),
        interactions=(call(NOW - days(5), "reached_debtor"),),
    )
    # DPD 31 in 6 days (Dec 21); 14 days without reaching on Dec 24: the earlier wins
    assert evaluate(facts, DEFAULT_POLICY, NOW).next_evaluation_at == midnight(date(2026, 12, 21))
    later_due = replace(facts, due_date=TODAY - days(5))
    assert evaluate(later_due, DEFAULT_POLICY, NOW).next_evaluation_at == midnight(
        date(2026, 12, 24)
    )


def test_next_evaluation_includes_the_unreachable_crossing() -> None:
    facts = account(
        stage="early",
        stage_entered_at=NOW - days(1),
        episode_started_at=NOW - days(3),
        due_date=TODAY - days(3),
        interactions=(call(NOW - days(2)),),
    )
    # the episode began Dec 12, local: tier C from Dec 19 (which also halves the dwell),
    # before DPD 8 (Dec 20) and the B dwell's end (Dec 21)
    result = evaluate(facts, DEFAULT_POLICY, NOW)
    assert (result.tier.tier, result.next_evaluation_at) == ("B", midnight(date(2026, 12, 19)))
    then = evaluate(facts, DEFAULT_POLICY, midnight(date(2026, 12, 19)))
    assert (then.tier.tier, then.stage.action) == ("C", "stay")  # DPD 8 comes a day later
    assert then.next_evaluation_at == midnight(date(2026, 12, 20))


def test_next_evaluation_includes_pending_promise_times() -> None:
    due = TODAY + days(5)
    facts = account(
        stage="network",
        stage_entered_at=NOW - days(1),
        due_date=TODAY - days(20),
        interactions=(call(NOW - days(1), "promise_to_pay"),),
        promises=(promise(due, created=NOW - days(1)),),
    )
    result = evaluate(facts, DEFAULT_POLICY, NOW)
    assert result.next_evaluation_at == midnight(due)
    at_due = evaluate(facts, DEFAULT_POLICY, midnight(due))
    assert at_due.next_evaluation_at == midnight(due + days(4))  # the window's end


def test_next_evaluation_includes_a_holds_end() -> None:
    until = NOW + timedelta(hours=5)
    facts = account(
        stage="reassigned",
        stage_entered_at=NOW - days(30),
        due_date=TODAY - days(100),
        holds=(hold("hardship", until), hold("manual", NOW - days(1))),
    )
    result = evaluate(facts, DEFAULT_POLICY, NOW)
    assert (result.stage.action, result.next_evaluation_at) == ("blocked", until)


def test_next_evaluation_includes_a_fact_dated_after_now() -> None:
    facts = account(
        stage="external",
        stage_entered_at=NOW - days(30),
        due_date=TODAY - days(200),
        interactions=(call(NOW - days(100), "reached_debtor"),),
        payments=(pay(NOW + timedelta(minutes=4)),),
    )
    assert evaluate(facts, DEFAULT_POLICY, NOW).next_evaluation_at == NOW + timedelta(minutes=4)


@pytest.mark.parametrize("status", ["cured", "delinquent"])
def test_a_payment_dated_after_now_inside_a_kept_promises_window_is_waited_for(
    status: str,
) -> None:
    kept = promise(TODAY - days(1), amount=100, created=NOW - days(10))  # window: 3 days' grace
    later = NOW + timedelta(minutes=3)
    facts = account(
        status=status,
        stage="external",
        stage_entered_at=NOW - days(30),
        due_date=TODAY - days(200),
        promises=(kept,),
        payments=(pay(NOW - days(5), 100), pay(later, 100)),
    )
    now = evaluate(facts, DEFAULT_POLICY, NOW)
    assert [(p.status, p.paid) for p in now.promises] == [("kept", 100)]
    assert now.next_evaluation_at == later
    assert [(p.status, p.paid) for p in evaluate(facts, DEFAULT_POLICY, later).promises] == [
        ("kept", 200)
    ]
    outside = replace(facts, payments=(pay(NOW - days(5), 100), pay(midnight(TODAY + days(3)))))
    expected = None if status == "cured" else midnight(TODAY + days(3))
    assert evaluate(outside, DEFAULT_POLICY, NOW).next_evaluation_at == expected


@pytest.mark.parametrize("status", ["cured", "closed", "charged_off"])
def test_nothing_to_wait_for_off_the_ladder(status: str) -> None:
    facts = account(status=status, stage="network", due_date=TODAY - days(40))
    result = evaluate(facts, DEFAULT_POLICY, NOW)
    assert (result.stage.action, result.next_evaluation_at) == ("off_ladder", None)
    pending = replace(facts, promises=(promise(TODAY + days(1), created=NOW - days(1)),))
    assert evaluate(pending, DEFAULT_POLICY, NOW).next_evaluation_at == midnight(TODAY + days(1))


def test_at_the_last_stage_only_a_holds_end_is_waited_for() -> None:
    facts = account(
        stage="external",
        stage_entered_at=NOW - days(3),
        due_date=TODAY - days(200),
        interactions=(call(NOW - days(100), "reached_debtor"),),
        holds=(hold("hardship", NOW + days(3)),),
    )
    # The hold's end changes the account (and who may call it) even with no stage to climb.
    assert evaluate(facts, DEFAULT_POLICY, NOW).next_evaluation_at == NOW + days(3)
    assert evaluate(replace(facts, holds=()), DEFAULT_POLICY, NOW).next_evaluation_at is None


def test_after_an_advance_next_evaluation_is_the_new_stages_dwell() -> None:
    facts = account(stage="reassigned", stage_entered_at=NOW - days(20), due_date=TODAY - days(95))
    result = evaluate(facts, DEFAULT_POLICY, NOW)
    assert result.stage.to_stage == "formal_notice"
    assert result.next_evaluation_at == NOW + days(14)  # DPD 91 already holds
    last = account(
        stage="formal_notice", stage_entered_at=NOW - days(20), due_date=TODAY - days(95)
    )
    into_external = evaluate(last, DEFAULT_POLICY, NOW)
    assert (into_external.stage.to_stage, into_external.next_evaluation_at) == ("external", None)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(account(), DEFAULT_POLICY, datetime(2026, 12, 15, 12, 0))


def test_a_fresh_account_waits_for_its_reminder_dwell() -> None:
    facts = account(stage_entered_at=NOW, episode_started_at=NOW, due_date=TODAY - days(1))
    result = evaluate(facts, DEFAULT_POLICY, NOW)
    assert (result.tier.rules, result.stage.action) == (("not_yet_contacted",), "stay")
    assert result.next_evaluation_at == NOW + days(1)
