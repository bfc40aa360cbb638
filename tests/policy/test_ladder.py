"""The stage ladder: each default transition with its trigger and dwell, blockers, manual."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from app.policy.document import DEFAULT_POLICY
from app.policy.facts import AccountFacts, StageDecision
from app.policy.ladder import decide_manual_advance, decide_stage, next_stage
from app.policy.names import HOLD_KINDS, STAGES
from tests.policy.builders import account, call, days, hold, ny, pay, policy, promise

NOW = datetime(2026, 12, 15, 17, 0, tzinfo=UTC)  # 12:00 in New York
TODAY = date(2026, 12, 15)
TICK = timedelta(microseconds=1)


def at(stage: str, dpd: int, dwelt: timedelta, **extra: Any) -> AccountFacts:
    """An account `dwelt` into `stage`, `dpd` days past due, reached yesterday by default."""
    entered = NOW - dwelt
    changes: dict[str, Any] = {
        "stage": stage,
        "stage_entered_at": entered,
        "episode_started_at": min(entered, NOW - days(dpd)),
        "due_date": TODAY - days(dpd),
        "interactions": (call(NOW - days(1), "reached_debtor"),),
    }
    changes.update(extra)
    return account(**changes)


def decide(facts: AccountFacts, tier: str = "B", now: datetime = NOW) -> StageDecision:
    return decide_stage(facts, DEFAULT_POLICY, tier, now)


def attempt(when: timedelta, **kw: Any) -> Any:
    return call(NOW - when, "no_answer", **kw)


def broken(n: int) -> dict[str, Any]:
    """n promises already broken (due long ago, nothing paid)."""
    return {
        "promises": tuple(
            promise(TODAY - days(30 + n), created=NOW - days(40), id=f"b{i}") for i in range(n)
        )
    }


PENDING = promise(TODAY + days(2), created=NOW - days(1), id="pending")

CASES: list[tuple[str, AccountFacts, str, str | None]] = [
    # reminder → early: DPD ≥ 1 and a reminder attempted; dwell 1 day
    (
        "reminder_advances",
        at("reminder", 1, days(1), interactions=(attempt(days(0.5)),)),
        "advance",
        "dpd_at_least:1+reminder_attempted",
    ),
    (
        "reminder_dwell_short",
        at("reminder", 1, days(1) - TICK, interactions=(attempt(days(0.5)),)),
        "stay",
        None,
    ),
    (
        "reminder_dpd_0",
        at("reminder", 0, days(1), interactions=(attempt(days(0.5)),)),
        "stay",
        None,
    ),
    ("reminder_not_attempted", at("reminder", 3, days(2), interactions=()), "stay", None),
    (
        "reminder_attempt_before_the_stage",
        at("reminder", 3, days(2), interactions=(attempt(days(3)),)),
        "stay",
        None,
    ),
    (
        "reminder_attempt_to_a_reference",
        at("reminder", 3, days(2), interactions=(attempt(days(1), relationship="friend"),)),
        "stay",
        None,
    ),
    (
        "reminder_inbound_call",
        at("reminder", 3, days(2), interactions=(attempt(days(1), direction="inbound"),)),
        "stay",
        None,
    ),
    (
        "reminder_sms",
        at("reminder", 3, days(2), interactions=(attempt(days(1), channel="sms"),)),
        "stay",
        None,
    ),
    # early → network: DPD ≥ 8 with no pending promise, or 1 broken promise; dwell 7
    (
        "early_advances_on_dpd",
        at("early", 8, days(7)),
        "advance",
        "dpd_at_least:8+no_pending_promise",
    ),
    ("early_dwell_short", at("early", 8, days(7) - TICK), "stay", None),
    ("early_dpd_7", at("early", 7, days(7)), "stay", None),
    (
        "early_advances_on_a_broken_promise",
        at("early", 3, days(7), **broken(1)),
        "advance",
        "broken_promises_at_least:1",
    ),
    ("early_pending_promise", at("early", 8, days(7), promises=(PENDING,)), "stay", None),
    (
        "early_broken_then_pending_is_blocked",
        at("early", 8, days(7), promises=(*broken(1)["promises"], PENDING)),
        "blocked",
        "broken_promises_at_least:1",
    ),
    # network → reassigned: DPD ≥ 31, or 2 broken promises, or 14 days without reaching
    ("network_advances_on_dpd", at("network", 31, days(7)), "advance", "dpd_at_least:31"),
    ("network_dwell_short", at("network", 31, days(7) - TICK), "stay", None),
    ("network_dpd_30", at("network", 30, days(7)), "stay", None),
    (
        "network_two_broken",
        at("network", 20, days(7), **broken(2)),
        "advance",
        "broken_promises_at_least:2",
    ),
    ("network_one_broken", at("network", 20, days(7), **broken(1)), "stay", None),
    (
        "network_not_reached_14_days",
        at("network", 20, days(7), interactions=(call(NOW - days(14), "reached_debtor"),)),
        "advance",
        "days_without_reaching_debtor_at_least:14",
    ),
    (
        "network_not_reached_13_days",
        at("network", 20, days(7), interactions=(call(NOW - days(13), "reached_debtor"),)),
        "stay",
        None,
    ),
    # reassigned → formal_notice: DPD ≥ 61; dwell 14
    ("reassigned_advances", at("reassigned", 61, days(14)), "advance", "dpd_at_least:61"),
    ("reassigned_dwell_short", at("reassigned", 61, days(14) - TICK), "stay", None),
    ("reassigned_dpd_60", at("reassigned", 60, days(14)), "stay", None),
    # formal_notice → external: DPD ≥ 91; dwell 14
    ("formal_notice_advances", at("formal_notice", 91, days(14)), "advance", "dpd_at_least:91"),
    ("formal_notice_dwell_short", at("formal_notice", 91, days(14) - TICK), "stay", None),
    ("formal_notice_dpd_90", at("formal_notice", 90, days(14)), "stay", None),
    # external is the last stage
    ("external_stays", at("external", 400, days(300)), "stay", None),
]


@pytest.mark.parametrize(
    ("facts", "action", "trigger"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_default_transitions(facts: AccountFacts, action: str, trigger: str | None) -> None:
    decision = decide(facts)
    assert (decision.action, decision.trigger) == (action, trigger)
    assert decision.from_stage == facts.stage
    if action == "advance":
        assert facts.stage is not None
        assert decision.to_stage == next_stage(facts.stage)
        assert decision.blockers == ()
    else:
        assert decision.to_stage is None


@pytest.mark.parametrize(("tier", "dwell"), [("A", days(10.5)), ("B", days(7)), ("C", days(3.5))])
def test_tier_sets_the_dwell(tier: str, dwell: timedelta) -> None:
    assert decide(at("early", 20, dwell), tier).action == "advance"
    assert decide(at("early", 20, dwell - TICK), tier).action == "stay"


def test_dwell_is_elapsed_time_not_wall_clock() -> None:
    # entered Sat 2026-03-07 12:00 EST; the clocks spring forward overnight: one day of dwell
    # (24 h) ends Sun 13:00 EDT, not at noon
    entered = ny(2026, 3, 7, 12)
    facts = account(
        stage_entered_at=entered,
        due_date=date(2026, 3, 1),
        interactions=(call(entered + timedelta(hours=1)),),
    )
    assert decide(facts, now=ny(2026, 3, 8, 12, 59, 59)).action == "stay"
    assert decide(facts, now=ny(2026, 3, 8, 13)).action == "advance"


@pytest.mark.parametrize("kind", HOLD_KINDS)
def test_every_hold_blocks(kind: str) -> None:
    decision = decide(at("early", 20, days(7), holds=(hold(kind),)))
    assert (decision.action, decision.blockers) == ("blocked", (f"hold:{kind}",))
    assert decision.trigger == "dpd_at_least:8+no_pending_promise"


def test_a_hold_blocks_until_its_end() -> None:
    assert decide(at("early", 20, days(7), holds=(hold("hardship", NOW + TICK),))).action == (
        "blocked"
    )
    assert decide(at("early", 20, days(7), holds=(hold("hardship", NOW),))).action == "advance"


@pytest.mark.parametrize("stop", ["bankruptcy", "deceased"])
def test_bankruptcy_and_death_block(stop: str) -> None:
    decision = decide(at("formal_notice", 100, days(20), stops=frozenset({stop})))
    assert (decision.action, decision.blockers) == ("blocked", (f"stop:{stop}",))


def test_a_cease_request_still_lets_the_ladder_reach_the_remedies_without_calls() -> None:
    decision = decide(at("formal_notice", 100, days(20), stops=frozenset({"cease"})))
    assert (decision.action, decision.to_stage) == ("advance", "external")
    decision = decide(at("reassigned", 100, days(20), stops=frozenset({"cease"})))
    assert (decision.action, decision.to_stage) == ("advance", "formal_notice")


@pytest.mark.parametrize("stage", ["reminder", "early", "network"])
def test_a_cease_request_blocks_steps_into_outreach_stages(stage: str) -> None:
    decision = decide(at(stage, 100, days(20), stops=frozenset({"cease"})))
    assert (decision.action, decision.blockers) == ("blocked", ("stop:cease",))


def test_blockers_are_sorted_and_reported_on_a_stay_too() -> None:
    facts = at(
        "early",
        2,
        days(1),
        holds=(hold("manual"), hold("dispute"), hold("manual")),
        stops=frozenset({"deceased", "cease"}),
        promises=(PENDING,),
    )
    decision = decide(facts)
    assert decision.action == "stay"
    assert decision.blockers == (
        "hold:dispute",
        "hold:manual",
        "pending_promise",
        "stop:cease",
        "stop:deceased",
    )


def test_a_pending_promise_blocks_until_the_end_of_due_date_plus_grace() -> None:
    due = TODAY - days(3)  # grace runs through today, local
    facts = at("network", 40, days(10), promises=(promise(due, created=NOW - days(5)),))
    assert decide(facts).blockers == ("pending_promise",)
    end_of_grace = datetime(2026, 12, 16, 5, 0, tzinfo=UTC)  # midnight in New York
    assert decide(facts, now=end_of_grace - TICK).action == "blocked"
    after = decide(facts, now=end_of_grace)
    assert (after.action, after.blockers) == ("advance", ())


@pytest.mark.parametrize("status", ["cured", "closed", "charged_off"])
def test_off_the_ladder(status: str) -> None:
    decision = decide(at("network", 40, days(10), status=status))
    assert decision == StageDecision("off_ladder", "network")


def test_days_past_due_use_the_tenants_calendar() -> None:
    # Dec 2, 03:00 UTC is still Dec 1 in New York: 0 days past a Dec 1 due date
    now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    facts = account(
        due_date=date(2026, 12, 1),
        stage_entered_at=now - days(2),
        interactions=(call(now - days(1)),),
    )
    assert decide(facts, now=now).action == "stay"
    assert decide(facts, now=now + timedelta(hours=2)).action == "advance"


@pytest.mark.parametrize(
    ("interactions", "payments", "expected"),
    [
        ((), (), "advance"),  # never reached: counted from the episode start
        ((call(NOW - days(5), "reached_debtor"),), (), "stay"),
        ((call(NOW - days(5), "promise_to_pay", direction="inbound"),), (), "stay"),
        ((), (pay(NOW - days(5)),), "stay"),  # a payment resets the clock
        ((call(NOW - days(5), "reached_third_party", relationship="parent"),), (), "advance"),
        ((call(NOW - days(5), "voicemail"),), (), "advance"),
        ((call(NOW - days(5), "reached_debtor", channel="sms"),), (), "advance"),
    ],
)
def test_not_reached_clock(interactions: Any, payments: Any, expected: str) -> None:
    facts = at(
        "network",
        20,
        days(15),
        episode_started_at=NOW - days(20),
        interactions=interactions,
        payments=payments,
    )
    assert decide(facts).action == expected


def test_not_reached_days_are_local_calendar_days_across_daylight_saving() -> None:
    # reached Mon 2026-02-23 23:00 EST; 14 local days later is Mon 03-09 00:00 EDT,
    # only 13 d 0 h of elapsed time because the clocks sprang forward on 03-08
    reached = ny(2026, 2, 23, 23)
    facts = account(
        stage="network",
        stage_entered_at=reached,
        episode_started_at=reached - days(10),
        due_date=date(2026, 2, 20),
        interactions=(call(reached, "reached_debtor"),),
    )
    crossing = ny(2026, 3, 9)
    assert crossing.astimezone(UTC) - reached == timedelta(days=13)
    assert decide(facts, now=crossing - TICK).action == "stay"
    assert decide(facts, now=crossing).trigger == "days_without_reaching_debtor_at_least:14"


def test_broken_promises_are_counted_from_payments_not_storage() -> None:
    stale = promise(TODAY - days(30), created=NOW - days(40), status="pending")
    assert decide(at("early", 3, days(7), promises=(stale,))).action == "advance"
    paid = (pay(NOW - days(35), 10_000),)
    stored_broken = promise(TODAY - days(30), created=NOW - days(40), status="broken")
    assert decide(at("early", 3, days(7), promises=(stored_broken,), payments=paid)).action == (
        "stay"
    )


def test_a_delinquent_account_without_a_stage_is_at_the_first_stage() -> None:
    facts = account(
        stage=None,
        stage_entered_at=None,
        episode_started_at=NOW - days(2),
        due_date=TODAY - days(2),
        interactions=(attempt(days(1)),),
    )
    decision = decide(facts)
    assert (decision.action, decision.from_stage, decision.to_stage) == (
        "advance",
        "reminder",
        "early",
    )


def test_the_transition_table_moves_one_step_and_ends_at_external() -> None:
    assert [next_stage(s) for s in STAGES] == [*STAGES[1:], None]
    with pytest.raises(ValueError, match="unknown stage"):
        next_stage("courtesy")


def test_a_stage_entered_now_is_not_left_now_even_without_dwell() -> None:
    ladder = DEFAULT_POLICY.model_dump(mode="json")["ladder"]
    for stage in ladder:
        stage["dwell_days"] = 0
    eager = policy(ladder=ladder)
    facts = at("reassigned", 100, timedelta(0))
    assert decide_stage(facts, eager, "B", NOW).action == "stay"
    assert decide_stage(facts, eager, "B", NOW + TICK).action == "advance"


# Manual advance: one step without dwell or trigger, same blockers.


def test_manual_advance_ignores_dwell_and_trigger() -> None:
    decision = decide_manual_advance(at("early", 0, timedelta(0)), DEFAULT_POLICY, NOW)
    assert decision == StageDecision("advance", "early", "network", "manual")


@pytest.mark.parametrize(
    ("extra", "blockers"),
    [
        ({"holds": (hold("hardship"),)}, ("hold:hardship",)),
        ({"stops": frozenset({"bankruptcy"})}, ("stop:bankruptcy",)),
        ({"promises": (PENDING,)}, ("pending_promise",)),
        ({"status": "cured"}, ("off_ladder",)),
        ({"status": "closed", "holds": (hold("dispute"),)}, ("hold:dispute", "off_ladder")),
        ({"stage": "external"}, ("already_at_last_stage",)),
    ],
)
def test_manual_advance_is_refused_when_blocked(
    extra: dict[str, Any], blockers: tuple[str, ...]
) -> None:
    extra = dict(extra)
    stage = extra.pop("stage", "early")
    decision = decide_manual_advance(at(stage, 10, days(1), **extra), DEFAULT_POLICY, NOW)
    assert (decision.action, decision.blockers, decision.to_stage) == ("blocked", blockers, None)


def test_manual_advance_under_cease_reaches_only_the_remedies_without_calls() -> None:
    facts = at("reassigned", 10, days(1), stops=frozenset({"cease"}))
    assert decide_manual_advance(facts, DEFAULT_POLICY, NOW).to_stage == "formal_notice"
    facts = at("early", 10, days(1), stops=frozenset({"cease"}))
    assert decide_manual_advance(facts, DEFAULT_POLICY, NOW).blockers == ("stop:cease",)
