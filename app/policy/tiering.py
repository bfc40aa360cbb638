"""Tier A / B / C, recomputed from the facts every time (policy.md, Tiering and Definitions).

Order of rules, each recorded by name in `TierDecision.rules`:
1. No interaction in the episode yet → B, `not_yet_contacted` (nothing else applies).
2. Base from the first reminder call (the first outbound call to a `self` contact):
   `reminder_outcome:<outcome>` → `tiering.reminder_outcomes[outcome]`, B when the outcome is
   not listed (no_answer, busy, voicemail...). No such call yet → B, `no_reminder_call`.
3. The account's reason, unless its verification is `contradicted`, overrides the base when
   `tiering.reason_leanings` lists it: `reason:<code>`.
4. Promises in order of (due_date, created_at, id): each kept one moves one step toward A
   (`promise_kept`), each broken one a step toward C (`promise_broken`), clamped at A and C.
   Partially kept, pending and cancelled promises do not move the tier.
5. C overrides: a reason that leans C (`override:wilful_default` by default), at least
   `broken_promises_for_c` broken promises (`override:broken_promises`), or no conversation
   in the episode although calls were attempted, `unreachable_days_for_c` or more local days
   after the episode started (`override:unreachable`).

Score (0 hardest .. 100 easiest): A 80, B 50, C 20, adjusted by +5 per kept promise, +2 per
partially kept one, −5 per broken one, +4 once the debtor has been reached (a conversation),
+3 for a verified reason; the adjustment is clamped to ±14, so tiers never overlap
(A 66..94, B 36..64, C 6..34).
"""

from collections.abc import Sequence
from datetime import datetime

from app.policy.compiled import CompiledPolicy, compiled
from app.policy.digest import Digest, digest
from app.policy.document import PolicyDocument
from app.policy.escalation import NOT_YET_CONTACTED
from app.policy.facts import AccountFacts, PromiseDecision, PromiseFact, TierDecision
from app.policy.localtime import local_date
from app.policy.promises import decide_promises

_TIERS = ("A", "B", "C")
_INDEX = {"A": 0, "B": 1, "C": 2}
_BASE_SCORE = (80, 50, 20)
_MAX_ADJUSTMENT = 14
_NOT_YET_CONTACTED = TierDecision("B", 50, (NOT_YET_CONTACTED,))


def decide_tier(
    facts: AccountFacts,
    policy: PolicyDocument,
    now: datetime,
    *,
    promises: Sequence[PromiseDecision] | None = None,
) -> TierDecision:
    """`promises`: decisions already made for `facts.promises` (evaluated here if omitted)."""
    plain = compiled(policy)
    if promises is None:
        promises = decide_promises(
            facts.promises, facts.payments, plain.grace_days, facts.timezone, now
        )
    return tier_from(facts, plain, digest(facts, now), promises)


def _promise_order(promise: PromiseFact) -> tuple[object, ...]:
    return (promise.due_date, promise.created_at, promise.id)


def tier_from(
    facts: AccountFacts, plain: CompiledPolicy, seen: Digest, promises: Sequence[PromiseDecision]
) -> TierDecision:
    if seen.interactions == 0:
        return _NOT_YET_CONTACTED
    rules: list[str] = []
    outcome = seen.first_reminder_outcome
    if outcome is None:
        index = 1
        rules.append("no_reminder_call")
    else:
        index = _INDEX[plain.reminder_outcomes.get(outcome, "B")]
        rules.append(f"reminder_outcome:{outcome}")

    reason = facts.reason_code if facts.reason_verification != "contradicted" else None
    leaning = plain.reason_leanings.get(reason) if reason is not None else None
    if leaning is not None:
        index = _INDEX[leaning]
        rules.append(f"reason:{reason}")

    kept = partial = broken = 0
    if promises:
        status = {d.id: d.status for d in promises}
        ordered = (
            facts.promises
            if len(facts.promises) < 2
            else sorted(facts.promises, key=_promise_order)
        )
        for promise in ordered:
            state = status.get(promise.id, promise.status)
            if state == "kept":
                kept += 1
                index = max(0, index - 1)
                rules.append("promise_kept")
            elif state == "broken":
                broken += 1
                index = min(2, index + 1)
                rules.append("promise_broken")
            elif state == "partially_kept":
                partial += 1

    overridden = False
    if leaning == "C":
        rules.append(f"override:{reason}")
        overridden = True
    if broken >= plain.broken_promises_for_c:
        rules.append("override:broken_promises")
        overridden = True
    if seen.conversations == 0 and seen.attempts > 0:
        started = local_date(facts.episode_started_at, facts.timezone)
        if (seen.today - started).days >= plain.unreachable_days_for_c:
            rules.append("override:unreachable")
            overridden = True
    if overridden:
        index = 2

    adjustment = 5 * kept + 2 * partial - 5 * broken
    if seen.conversations:
        adjustment += 4
    if facts.reason_code is not None and facts.reason_verification == "verified":
        adjustment += 3
    adjustment = max(-_MAX_ADJUSTMENT, min(_MAX_ADJUSTMENT, adjustment))
    return TierDecision(_TIERS[index], _BASE_SCORE[index] + adjustment, tuple(rules))
