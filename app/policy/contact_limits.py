"""Caps and cool-downs over calendar days in one zone (the debtor's, or a candidate's).

Each check treats the call being decided as one more attempt on the day it starts, and a
blocked check names the first instant of the first local day on which it passes.
"""

from collections.abc import Callable, Sequence
from datetime import datetime

from app.policy.contact_counts import (
    DayCounts,
    as_date,
    busiest_window,
    day_of,
    in_range,
    next_day,
    on_day,
)
from app.policy.contact_facts import AccountContactFacts, CallRecord, ContactFacts, RuleCheck
from app.policy.document import ContactPack, PolicyDocument
from app.policy.localtime import start_of_day

DayTest = Callable[[int], bool]


class DayLimits:
    def __init__(
        self,
        account: AccountContactFacts,
        contact: ContactFacts,
        history: Sequence[CallRecord],
        policy: PolicyDocument,
        pack: ContactPack,
        timezone: str,
    ) -> None:
        self.timezone = timezone
        self.counts = DayCounts.of(history, contact.id, timezone)
        self.rules: list[tuple[str, DayTest, Callable[[int], str]]] = []
        self._pack_rules(pack)
        self._cadence_rules(account, contact, policy)

    def checks(self, at: datetime, explain: bool = True) -> list[RuleCheck]:
        """Every rule's verdict at `at`; `explain=False` leaves the sentences empty."""
        day = day_of(at, self.timezone)
        results = []
        for rule, passes, describe in self.rules:
            detail = describe(day) if explain else ""
            if passes(day):
                results.append(RuleCheck(rule, True, detail))
                continue
            later = next_day(day, passes)
            next_at = None if later is None else start_of_day(as_date(later), self.timezone)
            results.append(RuleCheck(rule, False, detail, next_at))
        return results

    def _add(self, rule: str, passes: DayTest, describe: Callable[[int], str]) -> None:
        self.rules.append((rule, passes, describe))

    def _rolling(self, rule: str, days: tuple[int, ...], what: str, cap: int, n: int) -> None:
        def passes(day: int) -> bool:
            # Every n-day window holding `day` lies in day-n+1 .. day+n-1: a cheap upper bound.
            return in_range(days, day - n + 1, day + n - 1) < cap or (
                busiest_window(days, day, n) < cap
            )

        def describe(day: int) -> str:
            if passes(day):
                recent = in_range(days, day - n + 1, day)
                return f"{recent} {what} in the {n} days to {as_date(day)}; the cap is {cap}."
            return (
                f"{busiest_window(days, day, n)} {what} in the busiest {n} consecutive days "
                f"around {as_date(day)} ({self.timezone}); the cap is {cap}."
            )

        self._add(rule, passes, describe)

    def _daily(self, rule: str, days: tuple[int, ...], what: str, cap: int) -> None:
        def passes(day: int) -> bool:
            return on_day(days, day) < cap

        def describe(day: int) -> str:
            return f"{on_day(days, day)} {what} on {as_date(day)} ({self.timezone}); cap {cap}."

        self._add(rule, passes, describe)

    def _pack_rules(self, pack: ContactPack) -> None:
        counts = self.counts
        if pack.max_call_attempts_per_7_days is not None:
            self._rolling(
                "max_call_attempts_per_7_days",
                counts.attempts,
                "call attempts",
                pack.max_call_attempts_per_7_days,
                7,
            )
        if pack.max_unanswered_attempts_per_number_per_day is not None:
            self._daily(
                "max_unanswered_attempts_per_number_per_day",
                counts.unanswered_here,
                "unanswered attempts to this number",
                pack.max_unanswered_attempts_per_number_per_day,
            )
        if pack.max_conversations_per_day is not None:
            self._daily(
                "max_conversations_per_day",
                counts.conversations,
                "conversations with the debtor",
                pack.max_conversations_per_day,
            )
        for n, cap in (
            (7, pack.max_conversations_per_7_days),
            (30, pack.max_conversations_per_30_days),
        ):
            if cap is not None:
                rule = f"max_conversations_per_{n}_days"
                self._rolling(rule, counts.conversations, "conversations", cap, n)
        if pack.cooldown_days_after_conversation is not None:
            self._cooldown(pack.cooldown_days_after_conversation)

    def _cooldown(self, length: int) -> None:
        conversations = self.counts.conversations

        def passes(day: int) -> bool:
            return in_range(conversations, day - length + 1, day) == 0

        def describe(day: int) -> str:
            if passes(day):
                return f"No conversation with the debtor in the {length} days to {as_date(day)}."
            last = max(c for c in conversations if c <= day)
            return (
                f"A conversation with the debtor on {as_date(last)} ({self.timezone}) blocks "
                f"calls through {as_date(last + length - 1)} (day 1 is the conversation day)."
            )

        self._add("cooldown_after_conversation", passes, describe)

    def _cadence_rules(
        self, account: AccountContactFacts, contact: ContactFacts, policy: PolicyDocument
    ) -> None:
        cadence = policy.cadence
        if not contact.is_third_party:
            tier = account.tier or "B"
            per_day = getattr(cadence.per_tier, tier).max_call_attempts_per_day
            what = f"attempts to the debtor (tier {tier})"
            self._daily("tier_cadence_daily_attempts", self.counts.self_attempts, what, per_day)
        self._daily(
            "cadence_conversations_per_day",
            self.counts.conversations,
            "conversations with the debtor (tenant cadence)",
            cadence.max_conversations_per_day,
        )
