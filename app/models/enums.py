"""Enumerations stored as text with CHECK constraints (architecture.md)."""

from enum import StrEnum


class Jurisdiction(StrEnum):
    us_reg_f = "us_reg_f"
    cn_nifa = "cn_nifa"
    uk_fca = "uk_fca"


class AccountStatus(StrEnum):
    delinquent = "delinquent"
    cured = "cured"
    closed = "closed"
    charged_off = "charged_off"


class Stage(StrEnum):
    reminder = "reminder"
    early = "early"
    network = "network"
    reassigned = "reassigned"
    formal_notice = "formal_notice"
    external = "external"


class Tier(StrEnum):
    A = "A"
    B = "B"
    C = "C"


class ContactKind(StrEnum):
    phone = "phone"
    email = "email"
    address = "address"


class Relationship(StrEnum):
    self_ = "self"
    spouse = "spouse"
    parent = "parent"
    child = "child"
    relative = "relative"
    friend = "friend"
    colleague = "colleague"
    employer = "employer"
    other = "other"


class ContactStatus(StrEnum):
    active = "active"
    wrong_number = "wrong_number"
    unreachable = "unreachable"
    do_not_contact = "do_not_contact"


class Channel(StrEnum):
    call = "call"
    sms = "sms"
    email = "email"
    letter = "letter"
    visit = "visit"


class Direction(StrEnum):
    outbound = "outbound"
    inbound = "inbound"


class Outcome(StrEnum):
    no_answer = "no_answer"
    busy = "busy"
    voicemail = "voicemail"
    wrong_number = "wrong_number"
    reached_debtor = "reached_debtor"
    reached_third_party = "reached_third_party"
    promise_to_pay = "promise_to_pay"
    refused = "refused"
    dispute = "dispute"
    claims_paid = "claims_paid"
    hardship = "hardship"
    callback_requested = "callback_requested"
    cease_request = "cease_request"
    deceased_reported = "deceased_reported"
    bankruptcy_reported = "bankruptcy_reported"


class ReasonCode(StrEnum):
    family_change = "family_change"
    short_payment = "short_payment"
    payment_channel_error = "payment_channel_error"
    wilful_default = "wilful_default"
    income_loss = "income_loss"
    medical = "medical"
    disaster = "disaster"
    dispute = "dispute"
    other = "other"
    unknown = "unknown"


class ReasonVerification(StrEnum):
    claimed = "claimed"
    verified = "verified"
    contradicted = "contradicted"


class HoldKind(StrEnum):
    hardship = "hardship"
    disaster = "disaster"
    dispute = "dispute"
    payment_plan = "payment_plan"
    attorney = "attorney"
    breathing_space = "breathing_space"
    capacity = "capacity"
    manual = "manual"


class Scope(StrEnum):
    events_write = "events:write"
    dialer = "dialer"
    accounts_read = "accounts:read"
    accounts_write = "accounts:write"
    reports_read = "reports:read"
    admin = "admin"


def check_in(column: str, enum: type[StrEnum]) -> str:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"
