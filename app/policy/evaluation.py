"""One account's full evaluation: promises, then tier, then the ladder, then when to look again.

`evaluate` is idempotent: facts that already reflect its decision (the new stage, entered at
`now`) evaluated at the same `now` decide nothing new, because a stage entered at `now`
cannot be left at `now`.
"""

from datetime import datetime, timedelta

from app.policy.compiled import CompiledPolicy, compiled
from app.policy.digest import Digest, digest
from app.policy.document import PolicyDocument
from app.policy.escalation import days_past_due
from app.policy.facts import AccountFacts, Evaluation, PromiseDecision, StageDecision
from app.policy.ladder import current_stage, dwell_end, next_stage, stage_from
from app.policy.localtime import local_date, start_of_day
from app.policy.promises import decide_promises
from app.policy.tiering import tier_from


def evaluate(facts: AccountFacts, policy: PolicyDocument, now: datetime) -> Evaluation:
    """Decide promises, tier and stage for one account at `now` (an aware datetime)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    plain = compiled(policy)
    promises = decide_promises(
        facts.promises, facts.payments, plain.grace_days, facts.timezone, now
    )
    _, entered_at = current_stage(facts)
    seen = digest(facts, now, entered_at)
    tier = tier_from(facts, plain, seen, promises)
    stage = stage_from(facts, plain, tier.tier, now, seen, promises)
    upcoming = next_evaluation_at(facts, plain, now, seen, tier.tier, stage, promises)
    return Evaluation(tier, stage, promises, upcoming)


def next_evaluation_at(
    facts: AccountFacts,
    plain: CompiledPolicy,
    now: datetime,
    seen: Digest,
    tier: str,
    stage: StageDecision,
    promises: tuple[PromiseDecision, ...],
) -> datetime | None:
    """The earliest instant after `now` at which the same facts could decide differently.

    Candidates: each pending promise's due-date start and window end; the first fact dated
    after `now` while on the ladder, with a promise pending, or inside a settled promise's
    window; and, on the ladder, the local midnight the unreachable override would start, and,
    unless at the last stage (after applying this decision), the dwell end, the local
    midnights at which the stage's dpd or not-reached thresholds are crossed; and, while
    delinquent, the end of each timed hold. None when nothing could change with time alone.
    """
    zone_name = facts.timezone
    candidates: list[datetime] = []
    next_fact_at = seen.next_fact_at
    delinquent = facts.status == "delinquent"
    # A fact dated after `now` counts when it comes: on the ladder, for a pending promise, or
    # as a payment inside a settled promise's window (what it paid, or its outcome, may change).
    fact_counts = delinquent
    for promise, decision in zip(facts.promises, promises, strict=True):
        if decision.status == "cancelled":
            continue
        window_end = start_of_day(
            promise.due_date + timedelta(days=plain.grace_days + 1), zone_name
        )
        if decision.status == "pending":
            candidates.append(start_of_day(promise.due_date, zone_name))
            candidates.append(window_end)
            fact_counts = True
        elif next_fact_at is not None and next_fact_at < window_end:
            fact_counts = True
    if fact_counts and next_fact_at is not None:
        candidates.append(next_fact_at)
    if delinquent:
        # A hold's end changes what the account may be (and who may call it) at any stage.
        candidates.extend(hold.until for hold in facts.holds if hold.until is not None)
        if seen.conversations == 0 and seen.attempts > 0:
            started = local_date(facts.episode_started_at, zone_name)
            candidates.append(
                start_of_day(started + timedelta(days=plain.unreachable_days_for_c), zone_name)
            )
        if stage.action == "advance" and stage.to_stage is not None:
            name, entered_at = stage.to_stage, now
        else:
            name, entered_at = current_stage(facts)
        if next_stage(name) is not None:
            _ladder_candidates(facts, plain, now, seen, tier, name, entered_at, candidates)
    upcoming = [at for at in candidates if at > now]
    return min(upcoming) if upcoming else None


def _ladder_candidates(
    facts: AccountFacts,
    plain: CompiledPolicy,
    now: datetime,
    seen: Digest,
    tier: str,
    name: str,
    entered_at: datetime,
    candidates: list[datetime],
) -> None:
    stage = plain.stages[name]
    candidates.append(dwell_end(stage, tier, entered_at))
    zone_name = facts.timezone
    dpd = days_past_due(facts.status, facts.due_date, seen.today)
    for threshold in stage.dpd_thresholds:
        if threshold > dpd:  # the next threshold is crossed at the start of that local day
            candidates.append(start_of_day(facts.due_date + timedelta(days=threshold), zone_name))
            break
    if stage.reach_thresholds:
        reached = seen.last_reached_date(facts)
        waited = (seen.today - reached).days
        for threshold in stage.reach_thresholds:
            if threshold > waited:
                candidates.append(start_of_day(reached + timedelta(days=threshold), zone_name))
                break
