"""Properties of the policy engine over generated accounts (Hypothesis)."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.policy.document import DEFAULT_POLICY
from app.policy.evaluation import evaluate
from app.policy.facts import (
    AccountFacts,
    Evaluation,
    HoldFact,
    InteractionFact,
    PaymentFact,
    PromiseFact,
)
from app.policy.ladder import decide_manual_advance, next_stage
from app.policy.localtime import local_date
from app.policy.names import HOLD_KINDS, OUTCOMES, REASONS, STAGES
from app.policy.promises import evaluate_promise, promise_window_end
from app.policy.tiering import decide_tier

PROFILE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = datetime(2026, 1, 1, tzinfo=UTC)
ZONES = [
    "America/New_York",
    "Europe/London",
    "Asia/Shanghai",
    "UTC",
    "Australia/Lord_Howe",
    "America/Havana",
]

minutes = st.integers(min_value=0, max_value=500 * 24 * 60)


def _at(minute: int) -> datetime:
    return BASE + timedelta(minutes=minute)


@st.composite
def interactions(draw: st.DrawFn, start: int, end: int) -> InteractionFact:
    return InteractionFact(
        occurred_at=_at(draw(st.integers(start, end))),
        outcome=draw(st.sampled_from(OUTCOMES)),
        channel=draw(st.sampled_from(["call", "call", "call", "sms", "email"])),
        direction=draw(st.sampled_from(["outbound", "outbound", "inbound"])),
        relationship=draw(st.sampled_from(["self", "self", "self", "spouse", "friend"])),
        reason_code=draw(st.none() | st.sampled_from(REASONS)),
    )


@st.composite
def accounts(draw: st.DrawFn) -> tuple[AccountFacts, datetime]:
    """A plausible account and a `now`: facts mostly before now, a few just after."""
    zone = draw(st.sampled_from(ZONES))
    episode = draw(minutes)
    entered = episode + draw(st.integers(0, 120)) * 1440 + draw(st.integers(0, 1439))
    now_minute = entered + draw(st.integers(0, 40)) * 1440 + draw(st.integers(0, 1439))
    end = now_minute + draw(st.sampled_from([0, 0, 5]))
    dpd_at_start = draw(st.integers(0, 150))
    due = local_date(_at(episode), zone) - timedelta(days=dpd_at_start)

    def promise(i: int) -> PromiseFact:
        created = draw(st.integers(episode, end))
        due_date = local_date(_at(created), zone) + timedelta(days=draw(st.integers(0, 30)))
        return PromiseFact(
            id=f"p{i}",
            amount=draw(st.integers(1, 20_000)),
            due_date=due_date,
            created_at=_at(created),
            status=draw(st.sampled_from(["pending", "pending", "cancelled", "broken", "kept"])),
        )

    holds = draw(
        st.lists(
            st.builds(
                HoldFact,
                st.sampled_from(HOLD_KINDS),
                st.none() | st.integers(episode, end + 90 * 24 * 60).map(_at),
            ),
            max_size=draw(st.sampled_from([0, 0, 0, 2])),
        )
    )
    facts = AccountFacts(
        status=draw(st.sampled_from(["delinquent"] * 6 + ["cured", "closed", "charged_off"])),
        due_date=due,
        balance=draw(st.integers(0, 100_000)),
        stage=draw(st.sampled_from(STAGES)),
        stage_entered_at=_at(entered),
        episode_started_at=_at(episode),
        timezone=zone,
        stops=frozenset(
            draw(st.sets(st.sampled_from(["cease", "bankruptcy", "deceased"]), max_size=1))
        ),
        holds=tuple(holds),
        interactions=tuple(draw(st.lists(interactions(episode, end), max_size=8))),
        promises=tuple(promise(i) for i in range(draw(st.sampled_from([0, 0, 1, 2, 3])))),
        payments=tuple(
            PaymentFact(_at(draw(st.integers(episode, end))), draw(st.integers(1, 20_000)))
            for _ in range(draw(st.integers(0, 3)))
        ),
        reason_code=draw(st.none() | st.sampled_from(REASONS)),
        reason_verification=draw(st.sampled_from([None, "claimed", "verified", "contradicted"])),
    )
    return facts, _at(now_minute)


def applied(facts: AccountFacts, result: Evaluation, now: datetime) -> AccountFacts:
    if result.stage.action == "advance":
        return replace(facts, stage=result.stage.to_stage, stage_entered_at=now)
    return facts


def outcome(facts: AccountFacts, result: Evaluation) -> tuple[Any, ...]:
    """What an evaluation decided, in the terms next_evaluation_at promises to keep stable."""
    stage = result.stage
    blockers = stage.blockers if stage.from_stage != "external" else None
    decided: tuple[Any, ...] = (stage.action, stage.to_stage, stage.trigger, blockers)
    promises = tuple((d.id, d.status, d.paid, d.follow_up) for d in result.promises)
    if facts.status == "delinquent":
        return decided, promises, result.tier
    return decided, promises


@PROFILE
@given(accounts())
def test_a_stage_never_moves_more_than_one_step(case: tuple[AccountFacts, datetime]) -> None:
    facts, now = case
    result = evaluate(facts, DEFAULT_POLICY, now)
    if result.stage.action == "advance":
        assert facts.stage is not None
        assert result.stage.to_stage == next_stage(facts.stage)
        assert STAGES.index(result.stage.to_stage) == STAGES.index(facts.stage) + 1
    else:
        assert result.stage.to_stage is None


BLOCKING = st.sampled_from(
    [("hold", kind) for kind in HOLD_KINDS]
    + [("stop", "bankruptcy"), ("stop", "deceased")]
    + [("status", "cured"), ("status", "closed"), ("status", "charged_off")]
)


@PROFILE
@given(accounts(), BLOCKING, st.booleans())
def test_held_disputed_bankrupt_deceased_cured_or_closed_never_advances(
    case: tuple[AccountFacts, datetime], blocking: tuple[str, str], open_ended: bool
) -> None:
    facts, now = case
    what, name = blocking
    if what == "hold":
        until = None if open_ended else now + timedelta(seconds=1)
        facts = replace(facts, holds=(*facts.holds, HoldFact(name, until)))
    elif what == "stop":
        facts = replace(facts, stops=facts.stops | {name})
    else:
        facts = replace(facts, status=name)
    assert evaluate(facts, DEFAULT_POLICY, now).stage.action != "advance"
    assert decide_manual_advance(facts, DEFAULT_POLICY, now).action != "advance"


@PROFILE
@given(accounts(), st.randoms(use_true_random=False))
def test_decisions_are_deterministic_and_ignore_the_order_of_facts(
    case: tuple[AccountFacts, datetime], rnd: Any
) -> None:
    facts, now = case

    def shuffled(items: tuple[Any, ...]) -> tuple[Any, ...]:
        copy = list(items)
        rnd.shuffle(copy)
        return tuple(copy)

    shuffled_facts = replace(
        facts,
        interactions=shuffled(facts.interactions),
        promises=shuffled(facts.promises),
        payments=shuffled(facts.payments),
        holds=shuffled(facts.holds),
    )
    first = evaluate(facts, DEFAULT_POLICY, now)
    assert evaluate(facts, DEFAULT_POLICY, now) == first
    other = evaluate(shuffled_facts, DEFAULT_POLICY, now)
    assert other.tier == first.tier == decide_tier(shuffled_facts, DEFAULT_POLICY, now)
    assert other.stage == first.stage
    assert other.next_evaluation_at == first.next_evaluation_at
    assert sorted(other.promises, key=lambda d: d.id) == sorted(first.promises, key=lambda d: d.id)


@PROFILE
@given(accounts())
def test_evaluating_twice_at_the_same_now_changes_nothing(
    case: tuple[AccountFacts, datetime],
) -> None:
    facts, now = case
    first = evaluate(facts, DEFAULT_POLICY, now)
    second = evaluate(applied(facts, first, now), DEFAULT_POLICY, now)
    assert second.stage.action != "advance"
    assert second.tier == first.tier
    assert second.promises == first.promises
    assert second.next_evaluation_at == first.next_evaluation_at


@PROFILE
@given(accounts(), st.floats(min_value=0, max_value=1, exclude_max=True))
def test_nothing_changes_before_next_evaluation_at(
    case: tuple[AccountFacts, datetime], fraction: float
) -> None:
    facts, now = case
    first = evaluate(facts, DEFAULT_POLICY, now)
    upcoming = first.next_evaluation_at
    assert upcoming is None or upcoming > now
    stored = applied(facts, first, now)
    settled = evaluate(stored, DEFAULT_POLICY, now)
    horizon = upcoming if upcoming is not None else now + timedelta(days=400)
    later = now + (horizon - now) * fraction
    if later >= horizon:
        later = horizon - timedelta(microseconds=1)
    if later <= now:
        return
    assert outcome(stored, evaluate(stored, DEFAULT_POLICY, later)) == outcome(stored, settled)


@PROFILE
@given(accounts(), st.integers(0, 10**6), st.integers(1, 20_000))
def test_a_payment_inside_the_window_never_undoes_a_kept_promise(
    case: tuple[AccountFacts, datetime], offset: int, amount: int
) -> None:
    facts, now = case
    for promise in facts.promises:
        before = evaluate_promise(promise, facts.payments, DEFAULT_POLICY, facts.timezone, now)
        end = min(now, promise_window_end(promise.due_date, DEFAULT_POLICY, facts.timezone))
        if end <= promise.created_at:
            continue
        span = end - promise.created_at
        at = promise.created_at + span * (offset / 10**6)
        if at >= end:
            at = end - timedelta(microseconds=1)
        extra = (*facts.payments, PaymentFact(at, amount))
        after = evaluate_promise(promise, extra, DEFAULT_POLICY, facts.timezone, now)
        assert after.paid == before.paid + amount
        if before.status == "kept":
            assert after.status == "kept"
        if before.status in ("pending", "partially_kept", "kept", "broken"):
            assert after.status != "broken"
        if before.status == "cancelled":
            assert after.status == "cancelled"


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1)), st.sampled_from(ZONES))
def test_a_promise_window_ends_at_a_local_midnight(due: date, zone: str) -> None:
    end = promise_window_end(due, DEFAULT_POLICY, zone)
    assert local_date(end, zone) == due + timedelta(days=4)
    assert local_date(end - timedelta(microseconds=1), zone) == due + timedelta(days=3)
