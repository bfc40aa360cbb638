"""Call history counted by calendar day in the debtor's zone (policy.md, Definitions)."""

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from app.policy.contact_facts import UNANSWERED_OUTCOMES, CallRecord
from app.policy.localtime import local_date

# Far enough for every rule: caps look back at most 30 days, the cool-down 7.
DAY_SEARCH_LIMIT = 120


@dataclass(frozen=True, slots=True)
class DayCounts:
    """Sorted day ordinals (one entry per call) of the kinds of call the rules count."""

    attempts: tuple[int, ...]  # every outbound attempt on the account, live leases included
    self_attempts: tuple[int, ...]  # outbound attempts to the debtor's own contacts
    conversations: tuple[int, ...]  # right-party contacts with the debtor
    unanswered_here: tuple[int, ...]  # unanswered attempts (or live leases) to this contact

    @classmethod
    def of(cls, history: Iterable[CallRecord], contact_id: str, timezone: str) -> "DayCounts":
        attempts: list[int] = []
        self_attempts: list[int] = []
        conversations: list[int] = []
        unanswered: list[int] = []
        for call in history:
            day = local_date(call.occurred_at, timezone).toordinal()
            if call.is_attempt:
                attempts.append(day)
                if call.relationship == "self":
                    self_attempts.append(day)
                if call.contact_id == contact_id and (
                    call.outcome is None or call.outcome in UNANSWERED_OUTCOMES
                ):
                    unanswered.append(day)
            if call.is_conversation:
                conversations.append(day)
        return cls(
            tuple(sorted(attempts)),
            tuple(sorted(self_attempts)),
            tuple(sorted(conversations)),
            tuple(sorted(unanswered)),
        )


def on_day(days: tuple[int, ...], day: int) -> int:
    """How many entries fall on `day`."""
    return bisect_right(days, day) - bisect_left(days, day)


def in_range(days: tuple[int, ...], first: int, last: int) -> int:
    """How many entries fall on days first..last inclusive."""
    return bisect_right(days, last) - bisect_left(days, first)


def busiest_window(days: tuple[int, ...], day: int, length: int) -> int:
    """The most entries in any `length` consecutive days that include `day`."""
    if not days or days[0] > day + length - 1 or days[-1] < day - length + 1:
        return 0
    return max(in_range(days, day - k, day - k + length - 1) for k in range(length))


def next_day(day: int, passes: Callable[[int], bool]) -> int | None:
    """The first day after `day` on which `passes` holds, within the search limit."""
    for candidate in range(day + 1, day + DAY_SEARCH_LIMIT):
        if passes(candidate):
            return candidate
    return None


def day_of(at: datetime, timezone: str) -> int:
    return local_date(at, timezone).toordinal()


def as_date(ordinal: int) -> date:
    return date.fromordinal(ordinal)
