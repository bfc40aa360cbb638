"""Attempt caps, conversation caps, the cool-down and the tier cadence, at their edges."""

from datetime import UTC, datetime, timedelta

import pytest

from app.policy.contact_facts import ContactFacts
from app.policy.contact_rules import rules_broken
from app.policy.document import DEFAULT_POLICY
from tests.policy.contact_builders import (
    LONDON,
    NY,
    SELF,
    SHANGHAI,
    SPOUSE,
    account,
    call,
    daily,
    decide,
    local,
    policy_with,
)


@pytest.mark.parametrize("pack", ["us_reg_f", "uk_fca"])
def test_the_7th_attempt_in_7_days_is_allowed_and_the_8th_is_not(pack: str) -> None:
    zone = NY if pack == "us_reg_f" else LONDON
    first = local(zone, 2026, 3, 2, 9)
    six = daily(first, 6)  # days 1..6
    seventh_day = local(zone, 2026, 3, 8, 9)
    assert decide(seventh_day, six, acct=account(pack)).allowed
    seven = [*six, call(local(zone, 2026, 3, 8, 8))]
    blocked = decide(seventh_day, seven, acct=account(pack))
    assert blocked.rules == ("max_call_attempts_per_7_days",)
    # Day 1 (2 March) leaves the 7-day window on 9 March, local midnight; the window opens 08:00.
    assert blocked.next_allowed_at == local(zone, 2026, 3, 9, 8, 0)


def test_attempts_to_every_contact_count_towards_the_7_day_cap() -> None:
    first = local(NY, 2026, 3, 2, 9)
    history = [call(first + timedelta(days=i), contact=SPOUSE) for i in range(4)]
    history += [call(first + timedelta(days=i, hours=1)) for i in range(3)]
    assert decide(local(NY, 2026, 3, 6, 14), history).rules == ("max_call_attempts_per_7_days",)


def test_a_live_lease_counts_as_an_attempt() -> None:
    at = local(NY, 2026, 3, 4, 10)
    history = [call(at - timedelta(hours=1)), call(at - timedelta(minutes=5), None)]
    decision = decide(at, history, acct=account(tier="B"))  # tier B: 2 attempts a day
    assert decision.rules == ("tier_cadence_daily_attempts",)
    assert decision.next_allowed_at == local(NY, 2026, 3, 5, 8, 0)


def test_the_cooldown_after_a_conversation_ends_on_day_8() -> None:
    conversation = call(local(NY, 2026, 3, 2, 10), "reached_debtor")
    day_7 = decide(local(NY, 2026, 3, 8, 20, 0), [conversation])
    assert day_7.rules == ("cooldown_after_conversation",)
    assert day_7.next_allowed_at == local(NY, 2026, 3, 9, 8, 0)
    assert decide(local(NY, 2026, 3, 9, 8, 0), [conversation]).allowed
    day_2 = decide(local(NY, 2026, 3, 3, 10), [conversation])
    assert day_2.next_allowed_at == local(NY, 2026, 3, 9, 8, 0)


def test_an_inbound_conversation_starts_the_cooldown_too() -> None:
    inbound = call(local(NY, 2026, 3, 2, 10), "promise_to_pay", direction="inbound")
    assert decide(local(NY, 2026, 3, 5, 10), [inbound]).rules == ("cooldown_after_conversation",)


def test_the_cooldown_binds_third_parties_too_but_unanswered_calls_do_not_start_it() -> None:
    acct = account(stage="network")
    conversation = call(local(NY, 2026, 3, 2, 10), "refused")
    blocked = decide(local(NY, 2026, 3, 4, 10), [conversation], acct=acct, contact=SPOUSE)
    assert "cooldown_after_conversation" in blocked.rules
    voicemail = call(local(NY, 2026, 3, 2, 10), "voicemail")
    assert decide(local(NY, 2026, 3, 4, 10), [voicemail]).allowed


def test_uk_allows_3_conversations_per_7_days_and_10_per_30() -> None:
    acct = account("uk_fca")
    talks = daily(local(LONDON, 2026, 3, 2, 10), 3, "callback_requested")
    fourth = decide(local(LONDON, 2026, 3, 5, 10), talks, acct=acct)
    assert fourth.rules == ("max_conversations_per_7_days",)
    assert fourth.next_allowed_at == local(LONDON, 2026, 3, 9, 8, 0)
    spread = [
        call(local(LONDON, 2026, 3, 1, 10) + timedelta(days=3 * i), "refused") for i in range(10)
    ]
    month_end = decide(local(LONDON, 2026, 3, 30, 10), spread, acct=acct)
    assert "max_conversations_per_30_days" in month_end.rules


def test_cn_caps_unanswered_attempts_per_number_per_day() -> None:
    policy = policy_with(
        cadence={"per_tier": {t: {"max_call_attempts_per_day": 20} for t in "ABC"}}
    )
    acct = account("cn_nifa")
    morning = local(SHANGHAI, 2026, 3, 4, 9)
    five = [call(morning + timedelta(minutes=10 * i)) for i in range(5)]
    at = local(SHANGHAI, 2026, 3, 4, 12)
    assert decide(at, five, acct=acct, policy=policy).allowed
    six = [*five, call(morning + timedelta(minutes=55), "busy")]
    blocked = decide(at, six, acct=acct, policy=policy)
    assert blocked.rules == ("max_unanswered_attempts_per_number_per_day",)
    assert blocked.next_allowed_at == local(SHANGHAI, 2026, 3, 5, 8, 0)
    other = ContactFacts("self-2", "self", "phone", "active")
    assert decide(at, six, acct=acct, contact=other, policy=policy).allowed


def test_cn_caps_conversations_per_day_under_a_looser_tenant_cadence() -> None:
    policy = policy_with(cadence={"max_conversations_per_day": 5})
    acct = account("cn_nifa", tier="C")
    morning = local(SHANGHAI, 2026, 3, 4, 9)
    talks = [call(morning + timedelta(hours=i), "reached_debtor") for i in range(3)]
    decision = decide(local(SHANGHAI, 2026, 3, 4, 15), talks, acct=acct, policy=policy)
    assert "max_conversations_per_day" in decision.rules
    assert "cadence_conversations_per_day" not in decision.rules


@pytest.mark.parametrize(("tier", "allowed_after"), [("A", 0), ("B", 1), ("C", 1), (None, 1)])
def test_tier_cadence_caps_daily_attempts_to_the_debtor(
    tier: str | None, allowed_after: int
) -> None:
    morning = local(NY, 2026, 3, 4, 9)
    history = [call(morning + timedelta(hours=i)) for i in range(allowed_after + 1)]
    decision = decide(local(NY, 2026, 3, 4, 15), history, acct=account(tier=tier))
    assert decision.rules == ("tier_cadence_daily_attempts",)
    if allowed_after:
        assert decide(local(NY, 2026, 3, 4, 15), history[:-1], acct=account(tier=tier)).allowed


def test_a_conversation_caps_the_day_by_the_tenant_cadence() -> None:
    acct = account("cn_nifa")
    talk = call(local(SHANGHAI, 2026, 3, 4, 9), "claims_paid")
    decision = decide(local(SHANGHAI, 2026, 3, 4, 15), [talk], acct=acct)
    assert decision.rules == ("cadence_conversations_per_day",)
    assert decision.next_allowed_at == local(SHANGHAI, 2026, 3, 5, 8, 0)


def test_days_are_the_debtors_local_days() -> None:
    # 23:30 in New York is the next UTC day, but the same local day as 09:00.
    history = [call(local(NY, 2026, 3, 4, 9)), call(local(NY, 2026, 3, 4, 20, 30))]
    decision = decide(local(NY, 2026, 3, 4, 20, 40), history)
    assert decision.rules == ("tier_cadence_daily_attempts",)
    assert decide(local(NY, 2026, 3, 5, 8), history).allowed


def test_caps_hold_in_every_candidate_zone_when_the_debtor_zone_is_unknown() -> None:
    # 05:30 UTC is 5 March in New York (00:30) but 4 March in Los Angeles (21:30).
    history = [
        call(datetime(2026, 3, 5, 5, 30, tzinfo=UTC)),
        call(datetime(2026, 3, 5, 16, 30, tzinfo=UTC)),
    ]
    at = datetime(2026, 3, 5, 20, 0, tzinfo=UTC)
    assert decide(at, history, acct=account(debtor_timezone="America/Los_Angeles")).allowed
    unknown = decide(at, history, acct=account(debtor_timezone=None))
    assert unknown.rules == ("tier_cadence_daily_attempts",)
    # 6 March begins in New York at 05:00 UTC; the window opens 08:00 Los Angeles.
    assert unknown.next_allowed_at == datetime(2026, 3, 6, 16, 0, tzinfo=UTC)


def test_rules_broken_by_a_call_that_happened() -> None:
    conversation = call(local(NY, 2026, 3, 2, 10), "reached_debtor")
    late = call(local(NY, 2026, 3, 4, 21, 30), "no_answer")
    history = [conversation, late]
    broken = rules_broken(account(), SELF, history, DEFAULT_POLICY, late.occurred_at)
    assert set(broken) == {"calling_window", "cooldown_after_conversation"}
    assert rules_broken(account(), SELF, history, DEFAULT_POLICY, local(NY, 2026, 3, 9, 10)) == ()


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(datetime(2026, 3, 4, 12))
