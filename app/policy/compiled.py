"""A policy document read once into plain tuples and dicts for the hot path.

Evaluating an account must not touch pydantic: `compiled(policy)` caches the plain form per
document object (documents are immutable; a changed policy is a new object).
"""

from dataclasses import dataclass
from datetime import timedelta

from app.policy.document import PolicyDocument
from app.policy.names import TIERS

_CACHE_LIMIT = 256
_cache: dict[int, tuple[PolicyDocument, "CompiledPolicy"]] = {}


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    label: str
    dpd_at_least: int | None
    reminder_attempted: bool | None
    no_pending_promise: bool | None
    broken_promises_at_least: int | None
    days_without_reaching_debtor_at_least: int | None


@dataclass(frozen=True, slots=True)
class CompiledStage:
    name: str
    index: int
    dwell: dict[str, timedelta]  # per tier: dwell_days × multiplier × 24 h
    conditions: tuple[CompiledCondition, ...]
    uses_reach: bool  # a condition counts days without reaching the debtor
    dpd_thresholds: tuple[int, ...]  # the conditions' dpd_at_least values, ascending
    reach_thresholds: tuple[int, ...]  # their days_without_reaching_debtor_at_least, ascending


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    stages: dict[str, CompiledStage]
    reminder_outcomes: dict[str, str]
    reason_leanings: dict[str, str]
    broken_promises_for_c: int
    unreachable_days_for_c: int
    grace_days: int
    max_days_ahead: int


def _compile(policy: PolicyDocument) -> CompiledPolicy:
    factors = policy.tiering.dwell_multiplier
    multiplier = {"A": factors.A, "B": factors.B, "C": factors.C}
    stages: dict[str, CompiledStage] = {}
    for index, stage in enumerate(policy.ladder):
        conditions = tuple(
            CompiledCondition(
                c.label,
                c.dpd_at_least,
                c.reminder_attempted,
                c.no_pending_promise,
                c.broken_promises_at_least,
                c.days_without_reaching_debtor_at_least,
            )
            for c in stage.advance_when
        )
        dwell = {t: timedelta(hours=24 * stage.dwell_days * multiplier[t]) for t in TIERS}
        dpds = sorted({c.dpd_at_least for c in conditions if c.dpd_at_least is not None})
        reach = sorted(
            {
                c.days_without_reaching_debtor_at_least
                for c in conditions
                if c.days_without_reaching_debtor_at_least is not None
            }
        )
        stages[stage.name] = CompiledStage(
            stage.name, index, dwell, conditions, bool(reach), tuple(dpds), tuple(reach)
        )
    return CompiledPolicy(
        stages=stages,
        reminder_outcomes={k: v for k, v in policy.tiering.reminder_outcomes.items()},
        reason_leanings={k: v for k, v in policy.tiering.reason_leanings.items()},
        broken_promises_for_c=policy.tiering.broken_promises_for_c,
        unreachable_days_for_c=policy.tiering.unreachable_days_for_c,
        grace_days=policy.promises.grace_days,
        max_days_ahead=policy.promises.max_days_ahead,
    )


def compiled(policy: PolicyDocument) -> CompiledPolicy:
    """The plain form of `policy`, built once per document object."""
    hit = _cache.get(id(policy))
    if hit is not None and hit[0] is policy:
        return hit[1]
    plain = _compile(policy)
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[id(policy)] = (policy, plain)
    return plain
