"""Small pure helpers: masking, contact normalisation, the clock, log redaction."""

import json
import logging
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.clock import TenantClock
from app.contacts.normalise import normalise_contact_value
from app.logs import JsonFormatter, redact
from app.masking import mask_document, mask_email, mask_phone, mask_text


def test_phone_masking_matches_the_contract_style() -> None:
    assert mask_phone("+8613812345678") == "+86 138****5678"
    assert mask_phone("+12025550123") == "+1 202***0123"


def test_email_and_name_masking() -> None:
    assert mask_email("li.wei@example.com") == "l***@example.com"
    assert mask_text("Li Wei") == "L*** W***"


def test_audit_documents_are_masked_deeply() -> None:
    masked = mask_document(
        {"after": {"kind": "phone", "value": "+8613812345678", "name": "Li Wei", "n": 1}}
    )
    assert masked == {
        "after": {"kind": "phone", "value": "+86 138****5678", "name": "L*** W***", "n": 1}
    }


@given(st.text(min_size=1, max_size=40))
def test_masking_never_shows_a_whole_word(value: str) -> None:
    for word in value.split():
        if len(word) > 1:
            assert word not in mask_text(value).split()


@pytest.mark.parametrize(
    ("kind", "raw", "jurisdiction", "expected"),
    [
        ("phone", "+86 138 1234 5678", "us_reg_f", "+8613812345678"),
        ("phone", "138-1234-5678", "cn_nifa", "+8613812345678"),
        ("phone", "(202) 555-0123", "us_reg_f", "+12025550123"),
        ("phone", "020 7946 0018", "uk_fca", "+442079460018"),
        ("email", " Li.Wei@Example.COM ", "cn_nifa", "li.wei@example.com"),
        ("address", "  1 Main   St,\nSpringfield ", "us_reg_f", "1 Main St, Springfield"),
    ],
)
def test_normalisation(kind: str, raw: str, jurisdiction: str, expected: str) -> None:
    assert normalise_contact_value(kind, raw, jurisdiction) == expected


def test_sandbox_clock_is_frozen_and_live_clock_is_not() -> None:
    frozen = datetime(2026, 1, 1, 23, 0, tzinfo=UTC)
    sandbox = TenantClock("Asia/Tokyo", sandbox=True, frozen_at=frozen)
    assert sandbox.now() == frozen
    assert sandbox.today().isoformat() == "2026-01-02"
    live = TenantClock("UTC", sandbox=False, frozen_at=frozen)
    assert live.now() > frozen


def test_logs_never_carry_keys_or_phone_numbers() -> None:
    assert "tf_0123456789ab" not in redact("key tf_0123456789ab_SECRETsecret was used")
    assert "13812345678" not in redact("called +86 138 1234 5678 today")
    record = logging.makeLogRecord(
        {"msg": "called %s", "args": ("+8613812345678",), "name": "t", "levelname": "INFO"}
    )
    line = json.loads(JsonFormatter().format(record))
    assert "8613812345678" not in line["message"]
