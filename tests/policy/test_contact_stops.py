"""Stops, hard-stop holds, contact statuses and third parties, per pack."""

from datetime import timedelta

import pytest

from app.policy.contact_facts import ContactFacts
from app.policy.contact_rules import pack_for
from app.policy.document import DEFAULT_POLICY
from app.policy.purposes import choose_purpose
from tests.policy.contact_builders import (
    HOME,
    SELF,
    SPOUSE,
    account,
    call,
    decide,
    local,
    policy_with,
)

PACKS = ["us_reg_f", "cn_nifa", "uk_fca"]


@pytest.mark.parametrize("pack", PACKS)
@pytest.mark.parametrize(
    ("stop", "rule"),
    [("cease", "cease_request"), ("bankruptcy", "bankruptcy"), ("deceased", "deceased")],
)
def test_universal_stops_block_every_contact_for_good(pack: str, stop: str, rule: str) -> None:
    acct = account(pack, stage="network", stops=frozenset({stop}))
    for contact in (SELF, SPOUSE):
        decision = decide(local(HOME[pack], 2026, 3, 4, 12), acct=acct, contact=contact)
        assert rule in decision.rules
        assert decision.next_allowed_at is None


HOLDS = [
    ("us_reg_f", "dispute", True),
    ("us_reg_f", "attorney", True),
    ("us_reg_f", "breathing_space", False),
    ("cn_nifa", "dispute", True),
    ("cn_nifa", "payment_plan", True),
    ("cn_nifa", "attorney", False),
    ("uk_fca", "dispute", True),
    ("uk_fca", "breathing_space", True),
    ("uk_fca", "capacity", True),
    ("uk_fca", "attorney", False),
    ("us_reg_f", "hardship", False),
]


@pytest.mark.parametrize(("pack", "hold", "stops"), HOLDS)
def test_pack_hard_stop_holds(pack: str, hold: str, stops: bool) -> None:
    acct = account(pack, holds=frozenset({hold}))
    decision = decide(local(HOME[pack], 2026, 3, 4, 12), acct=acct)
    if stops:
        assert decision.rules == (f"hard_stop:{hold}",)
        assert decision.next_allowed_at is None
    else:
        assert decision.allowed


@pytest.mark.parametrize("pack", PACKS)
@pytest.mark.parametrize("status", ["wrong_number", "do_not_contact"])
def test_contact_statuses_stop_that_contact_only(pack: str, status: str) -> None:
    marked = ContactFacts("self-1", "self", "phone", status)
    other = ContactFacts("self-2", "self", "phone", "active")
    acct = account(pack, contacts=(marked, other))
    at = local(HOME[pack], 2026, 3, 4, 12)
    decision = decide(at, acct=acct, contact=marked)
    assert decision.rules == (status,)
    assert decision.next_allowed_at is None
    assert decide(at, acct=acct, contact=other).allowed


def test_an_unreachable_number_may_still_be_tried() -> None:
    unreachable = ContactFacts("self-1", "self", "phone", "unreachable")
    assert decide(local(HOME["us_reg_f"], 2026, 3, 4, 12), contact=unreachable).allowed


def test_only_phones_are_called_and_only_delinquent_accounts() -> None:
    email = ContactFacts("mail-1", "self", "email", "active")
    at = local(HOME["us_reg_f"], 2026, 3, 4, 12)
    assert decide(at, contact=email).rules == ("not_a_phone",)
    assert decide(at, acct=account(status="cured")).rules == ("account_not_delinquent",)


@pytest.mark.parametrize("relationship", ["employer", "colleague"])
def test_workplaces_only_when_the_policy_turns_them_on(relationship: str) -> None:
    boss = ContactFacts("boss-1", relationship, "phone", "active")
    acct = account(stage="network", contacts=(SELF, boss))
    at = local(HOME["us_reg_f"], 2026, 3, 4, 12)
    assert decide(at, acct=acct, contact=boss).rules == ("employer_contact_off",)
    on = policy_with(contact_employers=True)
    assert decide(at, acct=acct, contact=boss, policy=on).allowed


@pytest.mark.parametrize("pack", PACKS)
@pytest.mark.parametrize("stage", ["reminder", "early"])
def test_no_third_party_before_the_network_stage(pack: str, stage: str) -> None:
    acct = account(pack, stage=stage)
    decision = decide(local(HOME[pack], 2026, 3, 4, 12), acct=acct, contact=SPOUSE)
    assert "third_party_not_allowed_yet" in decision.rules
    assert decision.next_allowed_at is None


@pytest.mark.parametrize("pack", ["us_reg_f", "uk_fca"])
def test_third_parties_from_the_network_stage_on(pack: str) -> None:
    acct = account(pack, stage="network")
    assert decide(local(HOME[pack], 2026, 3, 4, 12), acct=acct, contact=SPOUSE).allowed


def test_us_location_inquiry_once_per_person() -> None:
    acct = account(stage="network")
    at = local(HOME["us_reg_f"], 2026, 3, 4, 12)
    unanswered = call(at - timedelta(days=20), "no_answer", contact=SPOUSE)
    assert decide(at, [unanswered], acct=acct, contact=SPOUSE).allowed
    reached = call(at - timedelta(days=20), "reached_third_party", contact=SPOUSE)
    decision = decide(at, [reached], acct=acct, contact=SPOUSE)
    assert decision.rules == ("third_party_once_per_person",)
    assert decision.next_allowed_at is None
    parent = ContactFacts("parent-1", "parent", "phone", "active")
    assert decide(
        at, [reached], acct=account(stage="network", contacts=(parent,)), contact=parent
    ).allowed


def test_cn_third_party_only_once_the_debtor_is_unreachable() -> None:
    pack = "cn_nifa"
    at = local(HOME[pack], 2026, 3, 6, 12)
    acct = account(pack, stage="network")
    before = decide(at, acct=acct, contact=SPOUSE)
    assert before.rules == ("third_party_debtor_reachable",)
    assert before.next_allowed_at is None
    failures = [call(at - timedelta(days=3 - i)) for i in range(3)]
    assert decide(at, failures, acct=acct, contact=SPOUSE).allowed
    broken_run = [
        *failures[:2],
        call(at - timedelta(days=2, hours=-1), "reached_debtor"),
        failures[2],
    ]
    assert decide(at, broken_run, acct=acct, contact=SPOUSE).rules == (
        "third_party_debtor_reachable",
    )
    invalid = account(
        pack,
        stage="network",
        contacts=(ContactFacts("self-1", "self", "phone", "wrong_number"), SPOUSE),
    )
    assert decide(at, acct=invalid, contact=SPOUSE).allowed


def test_cn_stops_calling_a_reference_who_refused() -> None:
    pack = "cn_nifa"
    at = local(HOME[pack], 2026, 3, 6, 12)
    acct = account(
        pack,
        stage="network",
        contacts=(ContactFacts("self-1", "self", "phone", "wrong_number"), SPOUSE),
    )
    refused = call(at - timedelta(days=2), "refused", contact=SPOUSE)
    assert decide(at, [refused], acct=acct, contact=SPOUSE).rules == ("third_party_refused",)


@pytest.mark.parametrize(
    ("pack", "expected"),
    [("us_reg_f", "location_inquiry"), ("cn_nifa", "relay_request"), ("uk_fca", "relay_request")],
)
def test_purpose_for_a_third_party_follows_the_pack(pack: str, expected: str) -> None:
    acct = account(pack, stage="network")
    today = local(HOME[pack], 2026, 3, 4).date()
    assert choose_purpose(acct, SPOUSE, pack_for(acct, DEFAULT_POLICY), today) == expected
    early = account(pack, stage="early")
    assert choose_purpose(early, SPOUSE, pack_for(early, DEFAULT_POLICY), today) is None


def test_purpose_for_the_debtor_follows_stage_and_state() -> None:
    pack = DEFAULT_POLICY.packs["us_reg_f"]
    today = local(HOME["us_reg_f"], 2026, 3, 4).date()
    reminder = account(stage="reminder", balance=100)
    assert choose_purpose(reminder, SELF, pack, today) == "reminder"
    assert choose_purpose(account(balance=100), SELF, pack, today) == "collect"
    assert choose_purpose(account(balance=0), SELF, pack, today) is None
    paid = account(balance=0)
    assert (
        choose_purpose(paid, SELF, pack, today, payment_to_confirm=True) == "payment_confirmation"
    )
    promised = account(balance=100, pending_promise_due=today + timedelta(days=1))
    assert choose_purpose(promised, SELF, pack, today) == "promise_reminder"
    assert choose_purpose(promised, SELF, pack, today - timedelta(days=1)) is None
    assert choose_purpose(account(status="closed", stage=None), SELF, pack, today) is None
