"""Contact rules: may this contact be called now, for a whole lease, and if not, when and why.

    decide_contact(account, contact, history, policy, now, lease_seconds) -> ContactDecision

Inputs (`app.policy.contact_facts`): `AccountContactFacts` (the debt, its debtor's stops, its
active hold kinds and contacts), one `ContactFacts`, and the account's `CallRecord` history
(the last 30 days suffice, plus every call to third parties; live leases as
`CallRecord.lease(...)`: they count as attempts until released). `policy` is the tenant's
`PolicyDocument`; the account's `jurisdiction` picks the pack, the document's `cadence` the
tier cadence. Nothing here reads a clock: `now` is given.

`rules_broken(account, contact, history, policy, occurred_at)` names the rules a call that
already happened broke (the same rules, on the calls before it, for a zero-length lease).

Output: `allowed` for the lease [now, now + lease_seconds) (half-open: a lease expiring exactly
at the window's end fits), `rules` naming every blocking rule, `checks` with every applicable
rule's verdict and a sentence, and `next_allowed_at`, the earliest instant from which the same
history allows the call (None: no passing of time helps, e.g. a stop).

Rule names (stable; the compliance report counts blocks by them):
- stops, never lifted by time: `not_a_phone`, `account_not_delinquent`, `cease_request`,
  `bankruptcy`, `deceased`, `hard_stop:<hold kind>` (the pack's `hard_stop_holds`),
  `do_not_contact`, `wrong_number`, `employer_contact_off`;
- third parties: `third_party_not_allowed_yet` (before the `network` stage),
  `third_party_debtor_reachable` (pack allows them only once the debtor is unreachable),
  `third_party_once_per_person`, `third_party_refused`;
- timed: `calling_window`, `max_call_attempts_per_7_days`,
  `max_unanswered_attempts_per_number_per_day`, `max_conversations_per_day`,
  `max_conversations_per_7_days`, `max_conversations_per_30_days`,
  `cooldown_after_conversation`, `tier_cadence_daily_attempts`,
  `cadence_conversations_per_day`.

Definitions as policy.md: attempts are outbound calls (live leases included) on the account,
whatever the contact; conversations are calls with a `self` contact that reached the debtor
(inbound calls included) and bind every contact of the account; the tier cadence counts
attempts to the debtor's own contacts. Days are calendar days in the debtor's zone; when the
debtor's zone is unknown, every cap must hold in every `candidate_timezones` zone. The window
must hold in the contact's and the debtor's zones (both, when both are known), else in every
candidate zone.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from app.policy.calling_window import lease_fits, next_fit
from app.policy.contact_facts import (
    AccountContactFacts,
    CallRecord,
    ContactDecision,
    ContactFacts,
    RuleCheck,
)
from app.policy.contact_limits import DayLimits
from app.policy.contact_stops import static_checks
from app.policy.document import ContactPack, PolicyDocument

__all__ = ["day_zones", "decide_contact", "pack_for", "rules_broken", "window_zones"]

# Beyond this, a contact that is still blocked counts as never allowed (next_allowed_at None).
SEARCH_HORIZON = timedelta(days=400)
_MAX_ROUNDS = 200


def pack_for(account: AccountContactFacts, policy: PolicyDocument) -> ContactPack:
    """The account's jurisdiction pack, else the tenant default's."""
    return policy.pack_of(account.jurisdiction)


def window_zones(
    account: AccountContactFacts, contact: ContactFacts, policy: PolicyDocument
) -> tuple[str, ...]:
    """The zones whose calling window must hold: contact's and debtor's, else the candidates."""
    known = [z for z in (contact.timezone, account.debtor_timezone) if z]
    return tuple(dict.fromkeys(known)) if known else tuple(policy.candidate_timezones)


def day_zones(account: AccountContactFacts, policy: PolicyDocument) -> tuple[str, ...]:
    """The zones whose calendar days the caps count in."""
    if account.debtor_timezone:
        return (account.debtor_timezone,)
    return tuple(policy.candidate_timezones)


class _Rules:
    """Everything about one (account, contact, history) that does not depend on the instant."""

    def __init__(
        self,
        account: AccountContactFacts,
        contact: ContactFacts,
        history: Sequence[CallRecord],
        policy: PolicyDocument,
        lease: timedelta,
    ) -> None:
        self.pack = pack_for(account, policy)
        self.lease = lease
        self.zones = window_zones(account, contact, policy)
        self.window = self.pack.window
        self.static = static_checks(account, contact, history, policy, self.pack)
        self.limits = [
            DayLimits(account, contact, history, policy, self.pack, zone)
            for zone in day_zones(account, policy)
        ]

    def timed_checks(self, at: datetime, explain: bool = True) -> list[RuleCheck]:
        checks = [self._window_check(at, explain)]
        by_rule: dict[str, list[RuleCheck]] = {}
        for limits in self.limits:
            for check in limits.checks(at, explain):
                by_rule.setdefault(check.rule, []).append(check)
        checks.extend(_merge(parts) for parts in by_rule.values())
        return checks

    def _window_check(self, at: datetime, explain: bool) -> RuleCheck:
        start, end = self.window
        span = f"{self.pack.window_start}–{self.pack.window_end}"
        outside = [z for z in self.zones if not lease_fits(at, self.lease, z, start, end)]
        if not outside:
            zones = ", ".join(self.zones)
            detail = f"The lease lies inside {span} in {zones}." if explain else ""
            return RuleCheck("calling_window", True, detail)
        nexts = [next_fit(at, self.lease, z, start, end) for z in outside]
        seconds = int(self.lease.total_seconds())
        detail = (
            (
                f"A {seconds} s lease from {at.isoformat()} is not wholly inside the {span} "
                f"calling window in {', '.join(outside)}."
            )
            if explain
            else ""
        )
        later = None if any(n is None for n in nexts) else max(n for n in nexts if n)
        return RuleCheck("calling_window", False, detail, later)


def _merge(parts: list[RuleCheck]) -> RuleCheck:
    """One rule checked in several day zones: blocked if blocked in any."""
    blocked = [p for p in parts if not p.allowed]
    if not blocked:
        return parts[0]
    if any(p.next_at is None for p in blocked):
        return RuleCheck(blocked[0].rule, False, blocked[0].detail, None)
    latest = max(blocked, key=lambda p: p.next_at or datetime.min)
    return latest


def decide_contact(
    account: AccountContactFacts,
    contact: ContactFacts,
    history: Sequence[CallRecord],
    policy: PolicyDocument,
    now: datetime,
    lease_seconds: int,
    *,
    explain: bool = True,
) -> ContactDecision:
    """May `contact` be called for [now, now + lease_seconds)? If not, from when, and why.

    `explain=False` decides the same but leaves the timed checks' sentences empty (for callers
    that need only the verdict, the rule names and `next_allowed_at`)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rules = _Rules(account, contact, history, policy, timedelta(seconds=lease_seconds))
    checks = rules.static + rules.timed_checks(now, explain)
    blocking = [c for c in checks if not c.allowed]
    if not blocking:
        return ContactDecision(contact.id, now, True, now, (), tuple(checks))
    return ContactDecision(
        contact.id,
        now,
        False,
        _next_allowed(rules, now, blocking),
        tuple(c.rule for c in blocking),
        tuple(checks),
    )


def rules_broken(
    account: AccountContactFacts,
    contact: ContactFacts,
    history: Sequence[CallRecord],
    policy: PolicyDocument,
    occurred_at: datetime,
) -> tuple[str, ...]:
    """The rules an outbound call that already happened at `occurred_at` broke, judged on the
    calls before it (for flagging a reported interaction; the facts as they were before it)."""
    earlier = [call for call in history if call.occurred_at < occurred_at]
    return decide_contact(account, contact, earlier, policy, occurred_at, 0, explain=False).rules


def _next_allowed(rules: _Rules, now: datetime, blocking: list[RuleCheck]) -> datetime | None:
    """Jump to the latest instant a blocking rule names, re-check, repeat.

    Each rule's `next_at` is the earliest instant it alone passes, so no instant skipped can
    pass every rule: the first instant where all pass is the earliest.
    """
    for _ in range(_MAX_ROUNDS):
        if any(c.next_at is None for c in blocking):
            return None
        at = max(c.next_at for c in blocking if c.next_at is not None)
        if at - now > SEARCH_HORIZON:
            return None
        blocking = [c for c in rules.timed_checks(at, explain=False) if not c.allowed]
        if not blocking:
            return at
    return None
