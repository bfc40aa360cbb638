"""Talking points: chosen by purpose, stage, language and policy flags; validated."""

import re
from typing import Any

import pytest
from pydantic import ValidationError

from app.policy.document import DEFAULT_POLICY, PolicyDocument
from app.policy.names import PURPOSES, STAGES
from app.policy.scripts import talking_points
from app.policy.talking_points import language_of
from tests.policy.contact_builders import policy_with

THIRD_PARTY = ["relay_request", "location_inquiry"]
DISCLOSES = re.compile(r"\b(debt|owe|owes|loan|overdue|pay|payment|balance)\b|欠|债|逾期|还款|贷款")


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
@pytest.mark.parametrize("purpose", PURPOSES)
def test_every_purpose_has_lines_in_both_languages(purpose: str, locale: str) -> None:
    stage = "network" if purpose in THIRD_PARTY else "early"
    lines = talking_points(purpose, stage, locale, DEFAULT_POLICY)
    assert lines
    if locale.startswith("zh"):
        assert all(re.search(r"[\u4e00-\u9fff]", line) for line in lines)


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("zh-CN", "zh"),
        ("zh_Hant_TW", "zh"),
        ("ZH", "zh"),
        ("en-GB", "en"),
        ("fr-FR", "fr"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_language_of_a_locale(locale: str | None, language: str) -> None:
    assert language_of(locale) == language


def test_an_unshipped_language_falls_back_to_english() -> None:
    assert talking_points("collect", "early", "fr-FR", DEFAULT_POLICY) == talking_points(
        "collect", "early", "en", DEFAULT_POLICY
    )


@pytest.mark.parametrize("purpose", THIRD_PARTY)
@pytest.mark.parametrize("locale", ["en", "zh"])
def test_lines_for_third_parties_never_disclose_the_debt(purpose: str, locale: str) -> None:
    everything = policy_with(reports_to_credit_bureau=True, takes_legal_action=True)
    for stage in STAGES:
        for jurisdiction in ("us_reg_f", "cn_nifa", "uk_fca"):
            for line in talking_points(purpose, stage, locale, everything, jurisdiction):
                assert not DISCLOSES.search(line.lower()), line


def test_consequences_only_when_the_lender_applies_them() -> None:
    plain = talking_points("collect", "formal_notice", "en", DEFAULT_POLICY)
    assert not any("credit" in line or "legal" in line for line in plain)
    reporting = policy_with(reports_to_credit_bureau=True)
    early = talking_points("collect", "early", "en", reporting)
    assert any("credit bureau" in line for line in early)
    assert not any(
        "credit" in line for line in talking_points("collect", "reminder", "en", reporting)
    )
    suing = policy_with(takes_legal_action=True)
    assert any("legal" in line for line in talking_points("collect", "formal_notice", "en", suing))
    assert not any("legal" in line for line in talking_points("collect", "early", "en", suing))
    zh = talking_points("collect", "early", "zh-CN", reporting)
    assert any("征信" in line for line in zh)


def test_stage_and_pack_specific_lines() -> None:
    reassigned = talking_points("collect", "reassigned", "en", DEFAULT_POLICY)
    assert any("new contact" in line for line in reassigned)
    assert not any(
        "new contact" in line for line in talking_points("collect", "early", "en", DEFAULT_POLICY)
    )
    uk = talking_points("relay_request", "network", "en", DEFAULT_POLICY, "uk_fca")
    us = talking_points("relay_request", "network", "en", DEFAULT_POLICY, "us_reg_f")
    assert any("Confirm who you are speaking to" in line for line in uk)
    assert len(uk) == len(us) + 1


def test_thanks_after_payment_and_a_firm_date_when_collecting() -> None:
    assert any(
        "thank" in line
        for line in talking_points("payment_confirmation", "early", "en", DEFAULT_POLICY)
    )
    assert any(
        "firm date" in line for line in talking_points("collect", "early", "en", DEFAULT_POLICY)
    )


def _document(**change: Any) -> dict[str, Any]:
    return DEFAULT_POLICY.model_dump(mode="json") | change


def _errors(document: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as raised:
        PolicyDocument.model_validate(document)
    return [(tuple(e["loc"]), e["msg"]) for e in raised.value.errors()]


def _lines(**change: Any) -> dict[str, Any]:
    points = DEFAULT_POLICY.model_dump(mode="json")["talking_points"]
    points.update(change)
    return points


def test_validation_rejects_threats_unflagged_consequences_gaps_and_unknowns() -> None:
    en = _lines()["en"]
    threat = [{**en[0], "text": "We will send someone to your workplace to shame you."}, *en[1:]]
    [(loc, msg)] = _errors(_document(talking_points=_lines(en=threat)))
    assert loc == ("talking_points", "en", 0, "text") and "never threaten" in msg

    unflagged = [{**en[0], "text": "Late payment goes on your credit report."}, *en[1:]]
    [(loc, msg)] = _errors(_document(talking_points=_lines(en=unflagged)))
    assert loc == ("talking_points", "en", 0, "requires")
    assert "reports_to_credit_bureau" in msg

    no_thanks = [line for line in en if "payment_confirmation" not in line["purposes"]]
    [(loc, msg)] = _errors(_document(talking_points=_lines(en=no_thanks)))
    assert loc == ("talking_points", "en") and "payment_confirmation" in msg

    zh_only = {"zh": _lines()["zh"]}
    [(loc, msg)] = _errors(_document(talking_points=zh_only))
    assert loc == ("talking_points",) and "English" in msg

    odd = [{**en[0], "tone": "stern"}, *en[1:]]
    assert _errors(_document(talking_points=_lines(en=odd)))[0][0] == (
        "talking_points",
        "en",
        0,
        "tone",
    )
    assert _errors(_document(talking_points=_lines(fr=en)))[0][0][:2] == ("talking_points", "fr")
    bad_purpose = [{**en[0], "purposes": ["threaten"]}, *en[1:]]
    assert _errors(_document(talking_points=_lines(en=bad_purpose)))[0][0][:4] == (
        "talking_points",
        "en",
        0,
        "purposes",
    )


def test_a_flagged_consequence_line_is_valid() -> None:
    en = _lines()["en"]
    flagged = [
        {**en[0], "text": "We report to the credit bureau.", "requires": "reports_to_credit_bureau"}
    ]
    assert PolicyDocument.model_validate(_document(talking_points=_lines(en=flagged + en[1:])))
