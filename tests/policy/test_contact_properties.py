"""Properties of the contact rules over generated histories, zones, windows and instants."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.policy.calling_window import wall_clock_reaches
from app.policy.contact_facts import AccountContactFacts, CallRecord, ContactFacts
from app.policy.contact_rules import day_zones, decide_contact, pack_for, window_zones
from app.policy.document import DEFAULT_POLICY, PolicyDocument
from app.policy.localtime import local_date, zone
from app.policy.names import HOLD_KINDS, OUTCOMES, STAGES
from app.policy.purposes import choose_purpose
from tests.policy.contact_builders import policy_with

PROFILE = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Asia/Shanghai",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "America/Havana",  # DST at midnight
]
# Instants near DST transitions and an ordinary day.
ANCHORS = [
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
    datetime(2026, 4, 4, 15, 0, tzinfo=UTC),
    datetime(2026, 3, 15, 5, 0, tzinfo=UTC),
    datetime(2026, 6, 10, 12, 0, tzinfo=UTC),
]
POLICIES: list[PolicyDocument] = [
    DEFAULT_POLICY,
    policy_with(pack__us_reg_f={"window_start": "00:00", "window_end": "01:30"}),
    policy_with(pack__us_reg_f={"window_start": "02:30", "window_end": "21:00"}),
    policy_with(pack__uk_fca={"window_start": "01:00", "window_end": "03:00"}),
    policy_with(contact_employers=True, cadence={"max_conversations_per_day": 3}),
]
CONTACTS = [
    ContactFacts("self-1", "self", "phone", "active"),
    ContactFacts("self-2", "self", "phone", "active", "Europe/London"),
    ContactFacts("self-3", "self", "phone", "wrong_number"),
    ContactFacts("spouse-1", "spouse", "phone", "active"),
    ContactFacts("boss-1", "employer", "phone", "active", "America/Los_Angeles"),
]

instants = st.builds(
    lambda anchor, minutes, seconds: anchor + timedelta(minutes=minutes, seconds=seconds),
    st.sampled_from(ANCHORS),
    st.integers(-3 * 24 * 60, 3 * 24 * 60),
    st.integers(0, 59),
)


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[AccountContactFacts, ContactFacts, list[CallRecord], PolicyDocument, datetime, int]:
    policy = draw(st.sampled_from(POLICIES))
    lease = draw(st.integers(0, 3600))
    now = draw(instants)
    contacts = tuple(
        replace(c, timezone=draw(st.sampled_from([None, *ZONES]))) if draw(st.booleans()) else c
        for c in CONTACTS
    )
    account = AccountContactFacts(
        account_id=1,
        jurisdiction=draw(st.sampled_from(["us_reg_f", "cn_nifa", "uk_fca"])),
        status=draw(st.sampled_from(["delinquent"] * 9 + ["cured"])),
        stage=draw(st.sampled_from(STAGES)),
        tier=draw(st.sampled_from(["A", "B", "C", None])),
        debtor_timezone=draw(st.sampled_from([None, *ZONES])),
        stops=frozenset(draw(st.lists(st.sampled_from(["cease", "bankruptcy"]), max_size=1)))
        if draw(st.integers(0, 19)) == 0
        else frozenset(),
        holds=frozenset(draw(st.lists(st.sampled_from(HOLD_KINDS), max_size=1)))
        if draw(st.integers(0, 9)) == 0
        else frozenset(),
        contacts=contacts,
        balance=draw(st.sampled_from([0, 100, 250_000])),
        pending_promise_due=draw(st.none() | st.dates(date(2026, 1, 1), date(2026, 12, 31))),
    )
    history = [
        CallRecord(
            contact.id,
            contact.relationship,
            now - timedelta(minutes=draw(st.integers(1, 30 * 24 * 60))),
            draw(st.sampled_from([None, *OUTCOMES, *["no_answer"] * 10])),
            draw(st.sampled_from(["outbound"] * 4 + ["inbound"])),
        )
        for contact in draw(st.lists(st.sampled_from(contacts), max_size=10))
    ]
    contact = draw(st.sampled_from([contacts[0]] * 4 + list(contacts)))
    if draw(st.booleans()):
        now = _near_a_window_edge(draw, account, contact, policy, now, lease)
        history = [c for c in history if c.occurred_at < now]
    return account, contact, history, policy, now, lease


def _near_a_window_edge(
    draw: st.DrawFn,
    account: AccountContactFacts,
    contact: ContactFacts,
    policy: PolicyDocument,
    now: datetime,
    lease: int,
) -> datetime:
    """An instant whose lease starts or ends within a few minutes of a window edge."""
    zone_name = draw(st.sampled_from(window_zones(account, contact, policy)))
    start, end = pack_for(account, policy).window
    day = local_date(now, zone_name)
    edges = wall_clock_reaches(day, start, zone_name) + wall_clock_reaches(day, end, zone_name)
    edge = draw(st.sampled_from(edges))
    jitter = timedelta(seconds=draw(st.integers(-300, 300)))
    return edge + jitter - (timedelta(seconds=lease) if draw(st.booleans()) else timedelta(0))


def _wall_clock_inside(at: datetime, lease: int, zone_name: str, start: time, end: time) -> bool:
    """Brute force: every minute of the lease and its last microsecond, on one local day."""
    tz = zone(zone_name)
    first_day = at.astimezone(tz).date()
    points = [at + timedelta(seconds=s) for s in range(0, lease, 60)]
    points.append(at + timedelta(seconds=lease) - timedelta(microseconds=1) if lease else at)
    for point in points:
        wall = point.astimezone(tz)
        if wall.date() != first_day or not (start <= wall.time() < end):
            return False
    return True


def _attempt_days(history: list[CallRecord], zone_name: str) -> list[date]:
    return [local_date(c.occurred_at, zone_name) for c in history if c.direction == "outbound"]


def _caps_respected(
    account: AccountContactFacts,
    contact: ContactFacts,
    history: list[CallRecord],
    policy: PolicyDocument,
    at: datetime,
) -> bool:
    """Brute-force recount of the 7-day attempt cap, the cool-down and the tier cadence."""
    pack = pack_for(account, policy)
    for zone_name in day_zones(account, policy):
        today = local_date(at, zone_name)
        attempts = [*_attempt_days(history, zone_name), today]
        cap = pack.max_call_attempts_per_7_days
        for first in (today - timedelta(days=k) for k in range(7)):
            window = [d for d in attempts if first <= d <= first + timedelta(days=6)]
            if cap is not None and len(window) > cap:
                return False
        talks = [local_date(c.occurred_at, zone_name) for c in history if c.is_conversation]
        cooldown = pack.cooldown_days_after_conversation
        if cooldown and any(0 <= (today - d).days < cooldown for d in talks):
            return False
        if sum(1 for d in talks if d == today) >= policy.cadence.max_conversations_per_day:
            return False
        if contact.relationship == "self":
            per_day = getattr(policy.cadence.per_tier, account.tier or "B")
            self_days = [
                local_date(c.occurred_at, zone_name)
                for c in history
                if c.direction == "outbound" and c.relationship == "self"
            ]
            if self_days.count(today) + 1 > per_day.max_call_attempts_per_day:
                return False
    return True


@PROFILE
@given(scenarios())
def test_allowed_means_the_whole_lease_is_inside_every_window_and_caps_hold(
    scenario: tuple[
        AccountContactFacts, ContactFacts, list[CallRecord], PolicyDocument, datetime, int
    ],
) -> None:
    account, contact, history, policy, now, lease = scenario
    decision = decide_contact(account, contact, history, policy, now, lease)
    assert decision.allowed == (decision.rules == ())
    assert decision == decide_contact(account, contact, history, policy, now, lease)
    elsewhere = now.astimezone(timezone(timedelta(hours=5, minutes=30)))
    same = decide_contact(account, contact, history, policy, elsewhere, lease)
    assert (same.allowed, same.next_allowed_at, same.rules) == (
        decision.allowed,
        decision.next_allowed_at,
        decision.rules,
    )
    if decision.allowed:
        _assert_compliant(account, contact, history, policy, now, lease)


@PROFILE
@given(scenarios())
def test_deciding_without_sentences_decides_the_same(
    scenario: tuple[
        AccountContactFacts, ContactFacts, list[CallRecord], PolicyDocument, datetime, int
    ],
) -> None:
    account, contact, history, policy, now, lease = scenario
    full = decide_contact(account, contact, history, policy, now, lease)
    terse = decide_contact(account, contact, history, policy, now, lease, explain=False)
    assert (terse.allowed, terse.next_allowed_at, terse.rules) == (
        full.allowed,
        full.next_allowed_at,
        full.rules,
    )
    assert [(c.rule, c.allowed, c.next_at) for c in terse.checks] == [
        (c.rule, c.allowed, c.next_at) for c in full.checks
    ]
    assert all(c.detail for c in full.checks)


def _assert_compliant(
    account: AccountContactFacts,
    contact: ContactFacts,
    history: list[CallRecord],
    policy: PolicyDocument,
    at: datetime,
    lease: int,
) -> None:
    start, end = pack_for(account, policy).window
    for zone_name in window_zones(account, contact, policy):
        assert _wall_clock_inside(at, lease, zone_name, start, end), zone_name
    assert _caps_respected(account, contact, history, policy, at)
    assert account.status == "delinquent" and not account.stops
    assert contact.status not in {"wrong_number", "do_not_contact"}


@PROFILE
@given(scenarios(), st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=3, max_size=3))
def test_next_allowed_at_is_allowed_and_nothing_earlier_is(
    scenario: tuple[
        AccountContactFacts, ContactFacts, list[CallRecord], PolicyDocument, datetime, int
    ],
    fractions: list[float],
) -> None:
    account, contact, history, policy, now, lease = scenario
    decision = decide_contact(account, contact, history, policy, now, lease)
    later = decision.next_allowed_at
    if decision.allowed or later is None:
        if not decision.allowed:
            assert decision.rules
        return
    assert later > now
    assert decide_contact(account, contact, history, policy, later, lease).allowed
    _assert_compliant(account, contact, history, policy, later, lease)
    gap = later - now
    probes = [now + gap * f for f in fractions] + [later - timedelta(seconds=1)]
    for probe in probes:
        if now <= probe < later:
            assert not decide_contact(account, contact, history, policy, probe, lease).allowed, (
                probe
            )


@PROFILE
@given(scenarios(), st.booleans(), st.dates(date(2026, 1, 1), date(2026, 12, 31)))
def test_purposes_follow_stage_relationship_and_pack(
    scenario: tuple[
        AccountContactFacts, ContactFacts, list[CallRecord], PolicyDocument, datetime, int
    ],
    payment_to_confirm: bool,
    today: date,
) -> None:
    account, contact, _, policy, _, _ = scenario
    pack = pack_for(account, policy)
    purpose = choose_purpose(account, contact, pack, today, payment_to_confirm=payment_to_confirm)
    if purpose is None:
        return
    assert account.status == "delinquent"
    if contact.relationship == "self":
        assert purpose not in {"relay_request", "location_inquiry"}
    else:
        assert account.stage is not None and STAGES.index(account.stage) >= STAGES.index("network")
        expected = (
            "location_inquiry"
            if pack.third_party.allowed == "location_inquiry"
            else "relay_request"
        )
        assert purpose == expected
    if purpose == "collect":
        assert account.balance > 0
