"""Calling windows per pack: the boundaries, the whole lease, DST days, several zones."""

from datetime import UTC, datetime

import pytest

from app.policy.contact_facts import ContactFacts
from tests.policy.contact_builders import (
    HOME,
    LONDON,
    NY,
    SELF,
    SHANGHAI,
    account,
    decide,
    local,
    policy_with,
)

CASES = [
    # pack, local wall time, lease seconds, allowed, next allowed (local) or None when allowed
    ("us_reg_f", (2026, 3, 4, 7, 59), 60, False, (2026, 3, 4, 8, 0)),
    ("us_reg_f", (2026, 3, 4, 8, 0), 60, True, None),
    ("us_reg_f", (2026, 3, 4, 20, 59), 60, True, None),  # lease ends 21:00 exactly: fits
    ("us_reg_f", (2026, 3, 4, 20, 59), 61, False, (2026, 3, 5, 8, 0)),
    ("us_reg_f", (2026, 3, 4, 21, 0), 0, False, (2026, 3, 5, 8, 0)),
    ("us_reg_f", (2026, 3, 4, 20, 30), 3600, False, (2026, 3, 5, 8, 0)),
    ("cn_nifa", (2026, 3, 4, 7, 59), 60, False, (2026, 3, 4, 8, 0)),
    ("cn_nifa", (2026, 3, 4, 8, 0), 60, True, None),
    ("cn_nifa", (2026, 3, 4, 21, 0), 60, True, None),
    ("cn_nifa", (2026, 3, 4, 21, 59), 60, True, None),
    ("cn_nifa", (2026, 3, 4, 21, 59), 120, False, (2026, 3, 5, 8, 0)),
    ("cn_nifa", (2026, 3, 4, 22, 0), 0, False, (2026, 3, 5, 8, 0)),
    ("uk_fca", (2026, 3, 4, 7, 59), 60, False, (2026, 3, 4, 8, 0)),
    ("uk_fca", (2026, 3, 4, 8, 0), 60, True, None),
    ("uk_fca", (2026, 3, 4, 20, 59), 60, True, None),
    ("uk_fca", (2026, 3, 4, 21, 0), 0, False, (2026, 3, 5, 8, 0)),
    # DST: spring-forward and fall-back days, in New York and London.
    ("us_reg_f", (2026, 3, 8, 7, 59), 60, False, (2026, 3, 8, 8, 0)),
    ("us_reg_f", (2026, 3, 8, 8, 0), 60, True, None),
    ("us_reg_f", (2026, 3, 8, 20, 59), 61, False, (2026, 3, 9, 8, 0)),
    ("us_reg_f", (2026, 3, 7, 21, 0), 60, False, (2026, 3, 8, 8, 0)),
    ("us_reg_f", (2026, 11, 1, 7, 59), 60, False, (2026, 11, 1, 8, 0)),
    ("us_reg_f", (2026, 11, 1, 8, 0), 60, True, None),
    ("us_reg_f", (2026, 10, 31, 21, 0), 60, False, (2026, 11, 1, 8, 0)),
    ("uk_fca", (2026, 3, 29, 7, 59), 60, False, (2026, 3, 29, 8, 0)),
    ("uk_fca", (2026, 3, 28, 21, 0), 60, False, (2026, 3, 29, 8, 0)),
    ("uk_fca", (2026, 10, 25, 7, 59), 60, False, (2026, 10, 25, 8, 0)),
    ("uk_fca", (2026, 10, 25, 20, 59), 60, True, None),
]


@pytest.mark.parametrize(("pack", "wall", "lease", "allowed", "next_wall"), CASES)
def test_window_boundaries(
    pack: str,
    wall: tuple[int, int, int, int, int],
    lease: int,
    allowed: bool,
    next_wall: tuple[int, int, int, int, int] | None,
) -> None:
    zone = HOME[pack]
    at = local(zone, *wall)
    decision = decide(at, acct=account(pack), lease=lease)
    assert decision.allowed is allowed
    if allowed:
        assert decision.rules == ()
        assert decision.next_allowed_at == at
    else:
        assert decision.rules == ("calling_window",)
        assert next_wall is not None
        assert decision.next_allowed_at == local(zone, *next_wall)


def test_dst_days_move_the_window_in_utc() -> None:
    before = decide(datetime(2026, 3, 7, 13, 0, tzinfo=UTC))  # 08:00 EST
    after = decide(datetime(2026, 3, 8, 12, 0, tzinfo=UTC))  # 08:00 EDT
    early = decide(datetime(2026, 3, 8, 11, 59, tzinfo=UTC))  # 07:59 EDT (12:59 the day before)
    assert before.allowed and after.allowed and not early.allowed


def test_a_window_start_in_the_spring_forward_gap_opens_when_the_clock_jumps() -> None:
    policy = policy_with(pack__us_reg_f={"window_start": "02:30"})
    at = local(NY, 2026, 3, 8, 1, 30)  # 06:30 UTC; 02:30 does not exist that night
    decision = decide(at, policy=policy, lease=60)
    assert decision.rules == ("calling_window",)
    assert decision.next_allowed_at == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT


def test_a_lease_across_the_fall_back_hour_leaves_the_window_and_comes_back() -> None:
    # Window 00:00–01:30: on 1 Nov 2026 New York shows 01:00–01:59 twice.
    policy = policy_with(pack__us_reg_f={"window_start": "00:00", "window_end": "01:30"})
    first_pass = datetime(2026, 11, 1, 5, 20, tzinfo=UTC)  # 01:20 EDT
    decision = decide(first_pass, policy=policy, lease=1200)
    assert not decision.allowed
    assert decision.next_allowed_at == datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # 01:00 EST
    assert decide(datetime(2026, 11, 1, 6, 0, tzinfo=UTC), policy=policy, lease=1200).allowed


def test_both_zones_must_hold_when_contact_and_debtor_zones_differ() -> None:
    contact = ContactFacts("self-1", "self", "phone", "active", LONDON)
    acct = account(contacts=(contact,))  # debtor in New York
    # 10:00 London = 05:00 New York: blocked until 08:00 New York = 13:00 London.
    decision = decide(local(LONDON, 2026, 3, 4, 10, 0), acct=acct, contact=contact)
    assert decision.rules == ("calling_window",)
    assert decision.next_allowed_at == local(NY, 2026, 3, 4, 8, 0)
    # 20:58 London = 15:58 New York: a 5-minute lease ends after London's window closes.
    late = decide(local(LONDON, 2026, 3, 4, 20, 58), acct=acct, contact=contact)
    assert late.rules == ("calling_window",)
    assert late.next_allowed_at == local(NY, 2026, 3, 5, 8, 0)


def test_only_the_overlap_of_both_windows_is_allowed() -> None:
    contact = ContactFacts("self-1", "self", "phone", "active", SHANGHAI)
    acct = account(contacts=(contact,))  # debtor in New York: overlap 08:00–10:00 Shanghai
    decision = decide(local(NY, 2026, 3, 4, 10), acct=acct, contact=contact)
    assert decision.rules == ("calling_window",)
    assert decision.next_allowed_at == local(SHANGHAI, 2026, 3, 5, 8, 0)
    assert decide(local(SHANGHAI, 2026, 3, 5, 9, 59), acct=acct, contact=contact, lease=60).allowed
    assert not decide(local(SHANGHAI, 2026, 3, 5, 10), acct=acct, contact=contact, lease=0).allowed


def test_zones_without_overlap_are_never_allowed() -> None:
    contact = ContactFacts("self-1", "self", "phone", "active", SHANGHAI)
    policy = policy_with(pack__us_reg_f={"window_end": "12:00"})
    acct = account(contacts=(contact,))
    decision = decide(local(NY, 2026, 3, 4, 10), acct=acct, contact=contact, policy=policy)
    assert decision.rules == ("calling_window",)
    assert decision.next_allowed_at is None


def test_unknown_zones_need_every_candidate_zone() -> None:
    acct = account(debtor_timezone=None)  # SELF has no zone either
    # Candidates run New York .. Los Angeles: 08:00 Los Angeles opens, 21:00 New York closes.
    too_early = decide(datetime(2026, 3, 4, 15, 59, tzinfo=UTC), acct=acct, lease=60)
    assert too_early.rules == ("calling_window",)
    assert too_early.next_allowed_at == datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
    assert decide(datetime(2026, 3, 4, 16, 0, tzinfo=UTC), acct=acct, lease=60).allowed
    assert decide(datetime(2026, 3, 5, 1, 59, tzinfo=UTC), acct=acct, lease=60).allowed
    closing = decide(datetime(2026, 3, 5, 1, 59, tzinfo=UTC), acct=acct, lease=61)
    assert closing.next_allowed_at == datetime(2026, 3, 5, 16, 0, tzinfo=UTC)


def test_the_contact_zone_alone_when_the_debtor_zone_is_unknown() -> None:
    contact = ContactFacts("self-1", "self", "phone", "active", SHANGHAI)
    acct = account(debtor_timezone=None, contacts=(contact,))
    assert decide(local(SHANGHAI, 2026, 3, 4, 9), acct=acct, contact=contact).allowed
    assert SELF.timezone is None
