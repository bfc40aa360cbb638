"""Masking of personal data for partner-bound keys (`+86 138****5678` style)."""

from typing import Any

import phonenumbers


def mask_phone(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return mask_text(e164)
    national = phonenumbers.national_significant_number(number)
    if len(national) > 7:
        shown = f"{national[:3]}{'*' * (len(national) - 7)}{national[-4:]}"
    else:
        shown = f"{'*' * max(len(national) - 2, 1)}{national[-2:]}"
    return f"+{number.country_code} {shown}"


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else mask_text(email)


def mask_text(value: str) -> str:
    words = value.split()
    return " ".join(f"{word[:1]}***" for word in words) if words else "***"


def mask_contact_value(kind: str, value: str) -> str:
    if kind == "phone":
        return mask_phone(value)
    if kind == "email":
        return mask_email(value)
    return mask_text(value)


_PERSONAL_KEYS = {"name", "value", "notes", "note", "reason", "address", "email", "phone"}


def mask_document(document: Any) -> Any:
    """Mask personal fields anywhere in an audit before/after document."""
    if isinstance(document, dict):
        kind = document.get("kind")
        masked: dict[str, Any] = {}
        for key, value in document.items():
            if key in _PERSONAL_KEYS and isinstance(value, str):
                masked[key] = (
                    mask_contact_value(kind, value)
                    if key == "value" and isinstance(kind, str)
                    else mask_text(value)
                )
            else:
                masked[key] = mask_document(value)
        return masked
    if isinstance(document, list):
        return [mask_document(item) for item in document]
    return document
