"""A contact is identified by (account, kind, normalised value); phones in E.164."""

import re

import phonenumbers

_REGION_BY_JURISDICTION = {"us_reg_f": "US", "cn_nifa": "CN", "uk_fca": "GB"}
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def normalise_contact_value(kind: str, value: str, jurisdiction: str) -> str:
    """Return the normalised value, or raise ValueError saying what is wrong."""
    value = value.strip()
    if kind == "phone":
        try:
            number = phonenumbers.parse(value, _REGION_BY_JURISDICTION.get(jurisdiction))
        except phonenumbers.NumberParseException as exc:
            raise ValueError("not a phone number") from exc
        if not phonenumbers.is_possible_number(number):
            raise ValueError("not a possible phone number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if kind == "email":
        lowered = value.lower()
        if not _EMAIL.match(lowered):
            raise ValueError("not an e-mail address")
        return lowered
    collapsed = " ".join(value.split())
    if not collapsed:
        raise ValueError("must not be empty")
    return collapsed
