"""The stage ladder: one step at a time, never a skip (policy.md, Stage ladder).

An account on the ladder (status `delinquent`) advances from its stage when
- it has dwelt long enough: now − stage_entered_at ≥ dwell_days × dwell_multiplier[tier] × 24 h
  (and it did not enter the stage at this very `now`, so one evaluation moves one step), and
- one of the stage's `advance_when` conditions holds (the first that holds is the trigger), and
- nothing blocks it: an active hold (`hold:<kind>`), bankruptcy or death (`stop:bankruptcy`,
  `stop:deceased`), or a pending promise (`pending_promise`, until the end of its due date +
  grace). A cease request (`stop:cease`) blocks only steps into outreach stages: the ladder
  may still move to `formal_notice` and `external`, the remedies that need no call.
Blockers are reported on every decision (sorted), so a "stay" can explain itself too.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from app.policy.compiled import CompiledCondition, CompiledPolicy, CompiledStage, compiled
from app.policy.digest import Digest, digest
from app.policy.document import PolicyDocument
from app.policy.escalation import FIRST_STAGE, days_past_due
from app.policy.facts import AccountFacts, PromiseDecision, StageDecision
from app.policy.names import LADDER_STOPS, STAGES_UNDER_CEASE
from app.policy.promises import decide_promises

OFF_LADDER: Final = "off_ladder"
AT_LAST_STAGE = "already_at_last_stage"
PENDING_PROMISE = "pending_promise"
MANUAL = "manual"
_TICK = timedelta(microseconds=1)


def next_stage(stage: str) -> str | None:
    """The transition table: the one stage each stage may move to."""
    match stage:
        case "reminder":
            return "early"
        case "early":
            return "network"
        case "network":
            return "reassigned"
        case "reassigned":
            return "formal_notice"
        case "formal_notice":
            return "external"
        case "external":
            return None
        case _:
            raise ValueError(f"unknown stage {stage!r}")


def current_stage(facts: AccountFacts) -> tuple[str, datetime]:
    """The stage and its entry time; a delinquent account with none is at the first stage,
    entered when the episode started."""
    return facts.stage or FIRST_STAGE, facts.stage_entered_at or facts.episode_started_at


def dwell_end(stage: CompiledStage, tier: str, entered_at: datetime) -> datetime:
    """The first instant the stage's dwell is satisfied (never at the entry instant itself)."""
    return entered_at.astimezone(UTC) + max(stage.dwell[tier], _TICK)


def blockers_of(
    facts: AccountFacts,
    now: datetime,
    promises: Sequence[PromiseDecision],
    to_stage: str | None = None,
) -> tuple[str, ...]:
    found: set[str] = set()
    if "cease" in facts.stops and to_stage is not None and to_stage not in STAGES_UNDER_CEASE:
        found.add("stop:cease")
    for hold in facts.holds:
        if hold.until is None or hold.until > now:
            found.add(f"hold:{hold.kind}")
    for stop in facts.stops:
        if stop in LADDER_STOPS:
            found.add(f"stop:{stop}")
    for decision in promises:
        if decision.status == "pending":
            found.add(PENDING_PROMISE)
            break
    return tuple(sorted(found))


def _holds(
    condition: CompiledCondition,
    dpd: int,
    attempted: bool,
    pending: bool,
    broken: int,
    not_reached_days: int,
) -> bool:
    return not (
        (condition.dpd_at_least is not None and dpd < condition.dpd_at_least)
        or (condition.reminder_attempted is not None and attempted != condition.reminder_attempted)
        or (condition.no_pending_promise is not None and pending == condition.no_pending_promise)
        or (
            condition.broken_promises_at_least is not None
            and broken < condition.broken_promises_at_least
        )
        or (
            condition.days_without_reaching_debtor_at_least is not None
            and not_reached_days < condition.days_without_reaching_debtor_at_least
        )
    )


def stage_from(
    facts: AccountFacts,
    plain: CompiledPolicy,
    tier: str,
    now: datetime,
    seen: Digest,
    promises: Sequence[PromiseDecision],
) -> StageDecision:
    """`decide_stage` given the digest (taken with `since` = the stage's entry time)."""
    if facts.status != "delinquent":
        return StageDecision(OFF_LADDER, facts.stage)
    name, entered_at = current_stage(facts)
    following = next_stage(name)
    stage = plain.stages[name]
    blockers = blockers_of(facts, now, promises, following)
    if following is None or now < dwell_end(stage, tier, entered_at):
        return StageDecision("stay", name, blockers=blockers)
    dpd = days_past_due(facts.status, facts.due_date, seen.today)
    pending = broken = 0
    for decision in promises:
        if decision.status == "pending":
            pending += 1
        elif decision.status == "broken":
            broken += 1
    not_reached = (seen.today - seen.last_reached_date(facts)).days if stage.uses_reach else 0
    for condition in stage.conditions:
        if _holds(condition, dpd, seen.self_attempt_since, pending > 0, broken, not_reached):
            if blockers:
                return StageDecision("blocked", name, None, condition.label, blockers)
            return StageDecision("advance", name, following, condition.label)
    return StageDecision("stay", name, blockers=blockers)


def _decisions(
    facts: AccountFacts, plain: CompiledPolicy, now: datetime
) -> tuple[PromiseDecision, ...]:
    return decide_promises(facts.promises, facts.payments, plain.grace_days, facts.timezone, now)


def decide_stage(
    facts: AccountFacts,
    policy: PolicyDocument,
    tier: str,
    now: datetime,
    *,
    promises: Sequence[PromiseDecision] | None = None,
) -> StageDecision:
    """Stay, advance one step, be blocked, or be off the ladder.

    `promises`: decisions already made for `facts.promises` (evaluated here if omitted).
    """
    plain = compiled(policy)
    if promises is None:
        promises = _decisions(facts, plain, now)
    _, entered_at = current_stage(facts)
    return stage_from(facts, plain, tier, now, digest(facts, now, entered_at), promises)


def decide_manual_advance(
    facts: AccountFacts,
    policy: PolicyDocument,
    now: datetime,
    *,
    promises: Sequence[PromiseDecision] | None = None,
) -> StageDecision:
    """One step up without waiting for dwell or a trigger, but obeying the same blockers;
    off the ladder (`off_ladder`) or at the last stage (`already_at_last_stage`) it is
    blocked too."""
    if promises is None:
        promises = _decisions(facts, compiled(policy), now)
    if facts.status != "delinquent":
        found = set(blockers_of(facts, now, promises))
        found.add(OFF_LADDER)
        return StageDecision("blocked", facts.stage, None, MANUAL, tuple(sorted(found)))
    name, _ = current_stage(facts)
    following = next_stage(name)
    found = set(blockers_of(facts, now, promises, following))
    if following is None:
        found.add(AT_LAST_STAGE)
    if found or following is None:
        return StageDecision("blocked", name, None, MANUAL, tuple(sorted(found)))
    return StageDecision("advance", name, following, MANUAL)
