"""Builders for contact-rule facts: each test states only what matters to it."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.policy.contact_facts import (
    AccountContactFacts,
    CallRecord,
    ContactDecision,
    ContactFacts,
)
from app.policy.contact_rules import decide_contact
from app.policy.document import DEFAULT_POLICY, PolicyDocument

NY = "America/New_York"
SHANGHAI = "Asia/Shanghai"
LONDON = "Europe/London"
HOME = {"us_reg_f": NY, "cn_nifa": SHANGHAI, "uk_fca": LONDON}

SELF = ContactFacts("self-1", "self", "phone", "active")
SPOUSE = ContactFacts("spouse-1", "spouse", "phone", "active")


def local(zone: str, y: int, mo: int, d: int, h: int = 12, mi: int = 0, fold: int = 0) -> datetime:
    """A local wall-clock time as a UTC instant."""
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


def account(jurisdiction: str = "us_reg_f", **changes: Any) -> AccountContactFacts:
    base = AccountContactFacts(
        account_id=1,
        jurisdiction=jurisdiction,
        status="delinquent",
        stage="early",
        tier="B",
        debtor_timezone=HOME[jurisdiction],
        contacts=(SELF, SPOUSE),
    )
    return replace(base, **changes)


def call(
    at: datetime, outcome: str | None = "no_answer", contact: ContactFacts = SELF, **kw: Any
) -> CallRecord:
    return CallRecord(contact.id, contact.relationship, at, outcome, **kw)


def policy_with(**changes: Any) -> PolicyDocument:
    """The default document with top-level fields or pack fields (`pack__<j>={...}`) changed."""
    data = DEFAULT_POLICY.model_dump(mode="json")
    for key, value in changes.items():
        if key.startswith("pack__"):
            data["packs"][key.removeprefix("pack__")].update(value)
        elif isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    return PolicyDocument.model_validate(data)


def decide(
    at: datetime,
    history: tuple[CallRecord, ...] | list[CallRecord] = (),
    *,
    acct: AccountContactFacts | None = None,
    contact: ContactFacts = SELF,
    policy: PolicyDocument = DEFAULT_POLICY,
    lease: int = 300,
) -> ContactDecision:
    return decide_contact(acct or account(), contact, history, policy, at, lease)


def daily(start: datetime, count: int, outcome: str = "no_answer") -> list[CallRecord]:
    """One call a day for `count` days from `start`."""
    return [call(start + timedelta(days=i), outcome) for i in range(count)]
