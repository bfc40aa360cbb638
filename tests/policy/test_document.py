"""The policy document: the shipped default is policy.md, and bad documents say where."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from app.models import enums
from app.policy import names
from app.policy.document import (
    DEFAULT_POLICY,
    Condition,
    ContactPack,
    PolicyDocument,
    default_document,
)

Doc = dict[str, Any]


def test_names_mirror_the_stored_enumerations() -> None:
    pairs = [
        (names.JURISDICTIONS, enums.Jurisdiction),
        (names.STAGES, enums.Stage),
        (names.TIERS, enums.Tier),
        (names.OUTCOMES, enums.Outcome),
        (names.REASONS, enums.ReasonCode),
        (names.HOLD_KINDS, enums.HoldKind),
    ]
    for values, enum in pairs:
        assert values == tuple(member.value for member in enum)


def test_default_document_is_json_and_round_trips() -> None:
    document = default_document()
    assert json.loads(json.dumps(document)) == document
    assert PolicyDocument.model_validate(document) == DEFAULT_POLICY
    assert PolicyDocument.model_validate({}) == DEFAULT_POLICY  # every field has its default


def test_default_ladder_is_policy_md_table() -> None:
    ladder = default_document()["ladder"]
    assert ladder == [
        {
            "name": "reminder",
            "dwell_days": 1.0,
            "advance_when": [{"dpd_at_least": 1, "reminder_attempted": True}],
        },
        {
            "name": "early",
            "dwell_days": 7.0,
            "advance_when": [
                {"dpd_at_least": 8, "no_pending_promise": True},
                {"broken_promises_at_least": 1},
            ],
        },
        {
            "name": "network",
            "dwell_days": 7.0,
            "advance_when": [
                {"dpd_at_least": 31},
                {"broken_promises_at_least": 2},
                {"days_without_reaching_debtor_at_least": 14},
            ],
        },
        {"name": "reassigned", "dwell_days": 14.0, "advance_when": [{"dpd_at_least": 61}]},
        {"name": "formal_notice", "dwell_days": 14.0, "advance_when": [{"dpd_at_least": 91}]},
        {"name": "external", "dwell_days": 0.0, "advance_when": []},
    ]


def test_default_tiering_cadence_and_promises() -> None:
    document = default_document()
    assert document["jurisdiction"] == "us_reg_f"
    assert document["candidate_timezones"] == [
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
    ]
    assert (
        document["reports_to_credit_bureau"],
        document["takes_legal_action"],
        document["contact_employers"],
    ) == (False, False, False)
    assert document["tiering"] == {
        "reminder_outcomes": {
            "promise_to_pay": "A",
            "reached_debtor": "B",
            "callback_requested": "B",
            "claims_paid": "B",
            "hardship": "B",
            "refused": "C",
            "wrong_number": "C",
        },
        "reason_leanings": {
            "short_payment": "A",
            "payment_channel_error": "A",
            "family_change": "B",
            "income_loss": "B",
            "medical": "B",
            "disaster": "B",
            "wilful_default": "C",
        },
        "broken_promises_for_c": 2,
        "unreachable_days_for_c": 7,
        "dwell_multiplier": {"A": 1.5, "B": 1.0, "C": 0.5},
    }
    assert document["promises"] == {"grace_days": 3, "max_days_ahead": 30}
    assert document["cadence"] == {
        "per_tier": {
            "A": {"max_call_attempts_per_day": 1},
            "B": {"max_call_attempts_per_day": 2},
            "C": {"max_call_attempts_per_day": 2},
        },
        "max_conversations_per_day": 1,
    }


def test_default_packs_are_the_contact_rules_table() -> None:
    packs = default_document()["packs"]
    assert set(packs) == {"us_reg_f", "cn_nifa", "uk_fca"}
    assert packs["us_reg_f"] == {
        "window_start": "08:00",
        "window_end": "21:00",
        "max_call_attempts_per_7_days": 7,
        "max_unanswered_attempts_per_number_per_day": None,
        "max_conversations_per_day": None,
        "max_conversations_per_7_days": None,
        "max_conversations_per_30_days": None,
        "cooldown_days_after_conversation": 7,
        "third_party": {
            "allowed": "location_inquiry",
            "once_per_person": True,
            "only_after_failed_self_attempts": None,
            "only_when_self_numbers_invalid": False,
            "stop_on_refusal": False,
            "identity_check_first": False,
        },
        "hard_stop_holds": ["dispute", "attorney"],
        "breathing_space_days": None,
        "records_retention_years": 3,
    }
    cn = packs["cn_nifa"]
    assert (cn["window_start"], cn["window_end"]) == ("08:00", "22:00")
    assert cn["max_unanswered_attempts_per_number_per_day"] == 6
    assert cn["max_conversations_per_day"] == 3
    assert cn["max_call_attempts_per_7_days"] is None
    assert cn["cooldown_days_after_conversation"] is None
    assert cn["third_party"] == {
        "allowed": "relay_or_contact_info",
        "once_per_person": False,
        "only_after_failed_self_attempts": 3,
        "only_when_self_numbers_invalid": True,
        "stop_on_refusal": True,
        "identity_check_first": False,
    }
    assert cn["hard_stop_holds"] == ["payment_plan", "dispute"]
    assert cn["records_retention_years"] == 2
    uk = packs["uk_fca"]
    assert (uk["window_start"], uk["window_end"]) == ("08:00", "21:00")
    assert uk["max_call_attempts_per_7_days"] == 7
    assert (uk["max_conversations_per_7_days"], uk["max_conversations_per_30_days"]) == (3, 10)
    assert uk["third_party"]["allowed"] == "relay"
    assert uk["third_party"]["identity_check_first"] is True
    assert uk["hard_stop_holds"] == ["breathing_space", "dispute", "capacity"]
    assert uk["breathing_space_days"] == 60
    assert uk["records_retention_years"] == 6


def test_pack_window_as_times() -> None:
    start, end = DEFAULT_POLICY.packs["cn_nifa"].window
    assert (start.hour, end.hour) == (8, 22)
    assert isinstance(DEFAULT_POLICY.packs["cn_nifa"], ContactPack)


@pytest.mark.parametrize(
    ("fields", "label"),
    [
        ({"dpd_at_least": 8, "no_pending_promise": True}, "dpd_at_least:8+no_pending_promise"),
        ({"dpd_at_least": 1, "reminder_attempted": True}, "dpd_at_least:1+reminder_attempted"),
        ({"broken_promises_at_least": 2}, "broken_promises_at_least:2"),
        ({"reminder_attempted": False}, "reminder_attempted:false"),
        (
            {"days_without_reaching_debtor_at_least": 14},
            "days_without_reaching_debtor_at_least:14",
        ),
    ],
)
def test_condition_label_names_the_trigger(fields: Doc, label: str) -> None:
    assert Condition.model_validate(fields).label == label


# ---------------------------------------------------------------------------------------------
# Validation: each bad document fails at its own location, with the path in the message.


def _ladder(doc: Doc) -> list[Doc]:
    ladder: list[Doc] = doc["ladder"]
    return ladder


def _swap(doc: Doc, i: int, j: int) -> None:
    ladder = _ladder(doc)
    ladder[i], ladder[j] = ladder[j], ladder[i]


Mutation = Callable[[Doc], object]
CASES: list[tuple[str, Mutation, tuple[Any, ...], str, str | None]] = [
    # id, mutation, loc, error type, message fragment
    ("unknown_top_field", lambda d: d.update(colour="red"), ("colour",), "extra_forbidden", None),
    (
        "unknown_condition_field",
        lambda d: _ladder(d)[1]["advance_when"][0].update(dpd=3),
        ("ladder", 1, "advance_when", 0, "dpd"),
        "extra_forbidden",
        None,
    ),
    (
        "unknown_pack_field",
        lambda d: d["packs"]["uk_fca"].update(max_texts=3),
        ("packs", "uk_fca", "max_texts"),
        "extra_forbidden",
        None,
    ),
    (
        "negative_dwell",
        lambda d: _ladder(d)[2].update(dwell_days=-1),
        ("ladder", 2, "dwell_days"),
        "greater_than_equal",
        None,
    ),
    (
        "nan_dwell",
        lambda d: _ladder(d)[2].update(dwell_days=float("nan")),
        ("ladder", 2, "dwell_days"),
        "finite_number",
        None,
    ),
    (
        "thresholds_out_of_order",
        lambda d: _ladder(d)[3].update(advance_when=[{"dpd_at_least": 20}]),
        ("ladder", 3, "advance_when"),
        "policy_threshold_order",
        "ladder[3].advance_when: dpd threshold 20 is below the previous stage's 31",
    ),
    (
        "stage_with_no_trigger",
        lambda d: _ladder(d)[2].update(advance_when=[]),
        ("ladder", 2, "advance_when"),
        "policy_no_trigger",
        "ladder[2].advance_when: a stage with no trigger could never advance",
    ),
    (
        "last_stage_with_trigger",
        lambda d: _ladder(d)[5].update(advance_when=[{"dpd_at_least": 120}]),
        ("ladder", 5, "advance_when"),
        "policy_last_stage_trigger",
        "ladder[5].advance_when: external is the last stage",
    ),
    (
        "empty_condition",
        lambda d: _ladder(d)[1]["advance_when"].append({}),
        ("ladder", 1, "advance_when", 2),
        "policy_empty_condition",
        "ladder[1].advance_when[2]: a condition needs at least one field",
    ),
    (
        "zero_broken_promises",
        lambda d: _ladder(d)[1]["advance_when"][1].update(broken_promises_at_least=0),
        ("ladder", 1, "advance_when", 1, "broken_promises_at_least"),
        "greater_than_equal",
        None,
    ),
    (
        "gap",
        lambda d: _ladder(d).pop(2),
        ("ladder",),
        "policy_ladder_gap",
        "ladder: missing stage(s) network",
    ),
    (
        "duplicate",
        lambda d: _ladder(d).insert(2, dict(_ladder(d)[1])),
        ("ladder", 2, "name"),
        "policy_ladder_duplicate",
        "ladder[2].name: stage 'early' is listed twice (first at ladder[1])",
    ),
    (
        "reordered",
        lambda d: _swap(d, 2, 3),
        ("ladder", 2, "name"),
        "policy_ladder_order",
        "ladder[2].name: expected 'network', got 'reassigned'",
    ),
    (
        "unknown_stage",
        lambda d: _ladder(d)[0].update(name="courtesy"),
        ("ladder", 0, "name"),
        "literal_error",
        None,
    ),
    (
        "unknown_jurisdiction",
        lambda d: d.update(jurisdiction="fr_cnil"),
        ("jurisdiction",),
        "literal_error",
        None,
    ),
    (
        "pack_for_unknown_jurisdiction",
        lambda d: d["packs"].update(fr_cnil=d["packs"]["uk_fca"]),
        ("packs", "fr_cnil", "[key]"),
        "literal_error",
        None,
    ),
    (
        "missing_pack",
        lambda d: d["packs"].pop("cn_nifa"),
        ("packs", "cn_nifa"),
        "policy_missing_pack",
        "packs.cn_nifa: every jurisdiction needs a pack",
    ),
    (
        "bad_time_zone",
        lambda d: d["candidate_timezones"].append("Mars/Olympus_Mons"),
        ("candidate_timezones", 4),
        "policy_timezone",
        "candidate_timezones[4]: unknown time zone 'Mars/Olympus_Mons'",
    ),
    (
        "no_time_zones",
        lambda d: d.update(candidate_timezones=[]),
        ("candidate_timezones",),
        "too_short",
        None,
    ),
    (
        "window_reversed",
        lambda d: d["packs"]["us_reg_f"].update(window_start="21:00", window_end="08:00"),
        ("packs", "us_reg_f", "window_end"),
        "policy_window",
        "packs.us_reg_f.window_end: 08:00 must be after window_start 21:00",
    ),
    (
        "window_empty",
        lambda d: d["packs"]["uk_fca"].update(window_end="08:00"),
        ("packs", "uk_fca", "window_end"),
        "policy_window",
        "packs.uk_fca.window_end: 08:00 must be after window_start 08:00",
    ),
    (
        "window_not_hh_mm",
        lambda d: d["packs"]["uk_fca"].update(window_start="8am"),
        ("packs", "uk_fca", "window_start"),
        "string_pattern_mismatch",
        None,
    ),
    (
        "grace_too_long",
        lambda d: d["promises"].update(grace_days=61),
        ("promises", "grace_days"),
        "less_than_equal",
        None,
    ),
    (
        "max_days_ahead_zero",
        lambda d: d["promises"].update(max_days_ahead=0),
        ("promises", "max_days_ahead"),
        "greater_than_equal",
        None,
    ),
    (
        "multiplier_missing_tier",
        lambda d: d["tiering"]["dwell_multiplier"].pop("C"),
        ("tiering", "dwell_multiplier", "C"),
        "missing",
        None,
    ),
    (
        "unknown_outcome",
        lambda d: d["tiering"]["reminder_outcomes"].update(shouted=True),
        ("tiering", "reminder_outcomes", "shouted", "[key]"),
        "literal_error",
        None,
    ),
    (
        "unknown_tier",
        lambda d: d["tiering"]["reason_leanings"].update(medical="D"),
        ("tiering", "reason_leanings", "medical"),
        "literal_error",
        None,
    ),
    (
        "unknown_hold_kind",
        lambda d: d["packs"]["cn_nifa"]["hard_stop_holds"].append("vacation"),
        ("packs", "cn_nifa", "hard_stop_holds", 2),
        "literal_error",
        None,
    ),
    (
        "cadence_zero",
        lambda d: d["cadence"]["per_tier"]["A"].update(max_call_attempts_per_day=0),
        ("cadence", "per_tier", "A", "max_call_attempts_per_day"),
        "greater_than_equal",
        None,
    ),
]


@pytest.mark.parametrize(
    ("mutate", "loc", "kind", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_invalid_document_points_at_the_fault(
    mutate: Mutation, loc: tuple[Any, ...], kind: str, message: str | None
) -> None:
    document = default_document()
    mutate(document)
    with pytest.raises(ValidationError) as raised:
        PolicyDocument.model_validate(document)
    errors = raised.value.errors()
    matching = [e for e in errors if e["loc"] == loc]
    assert matching, f"no error at {loc}: {errors}"
    assert matching[0]["type"] == kind
    if message is not None:
        assert message in matching[0]["msg"]


def test_reordered_ladder_reports_every_misplaced_stage() -> None:
    document = default_document()
    _swap(document, 0, 5)
    with pytest.raises(ValidationError) as raised:
        PolicyDocument.model_validate(document)
    assert [e["loc"] for e in raised.value.errors()] == [
        ("ladder", 0, "name"),
        ("ladder", 5, "name"),
    ]


def test_thresholds_may_repeat_and_stages_without_dpd_are_skipped() -> None:
    document = default_document()
    ladder = _ladder(document)
    ladder[3]["advance_when"] = [{"dpd_at_least": 31}]  # equal to network's: non-decreasing
    ladder[4]["advance_when"] = [{"broken_promises_at_least": 3}]  # no dpd at all
    ladder[5]["advance_when"] = []
    PolicyDocument.model_validate(document)


def test_threshold_order_uses_each_stage_lowest_dpd() -> None:
    document = default_document()
    # network's lowest is 31; reassigned offers 70 or 25: its lowest, 25, is out of order
    _ladder(document)[3]["advance_when"] = [{"dpd_at_least": 70}, {"dpd_at_least": 25}]
    with pytest.raises(ValidationError, match="dpd threshold 25 is below the previous stage's 31"):
        PolicyDocument.model_validate(document)


def test_a_tenant_may_tune_every_number() -> None:
    document = default_document()
    document["jurisdiction"] = "uk_fca"
    document["candidate_timezones"] = ["Europe/London"]
    document["ladder"][1]["dwell_days"] = 0.5
    document["promises"]["grace_days"] = 0
    document["packs"]["uk_fca"]["window_end"] = "20:00"
    parsed = PolicyDocument.model_validate(document)
    assert parsed.stage("early").dwell_days == 0.5
    assert parsed.packs["uk_fca"].window_end == "20:00"
