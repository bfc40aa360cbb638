"""Small builders for policy facts, so each test states only what matters to it."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.policy.document import DEFAULT_POLICY, PolicyDocument
from app.policy.facts import AccountFacts, HoldFact, InteractionFact, PaymentFact, PromiseFact

NY = "America/New_York"
T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York, the due date's morrow
DUE = date(2026, 11, 1)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def call(
    at: datetime,
    outcome: str = "no_answer",
    *,
    relationship: str = "self",
    direction: str = "outbound",
    channel: str = "call",
    reason: str | None = None,
) -> InteractionFact:
    return InteractionFact(at, outcome, channel, direction, relationship, reason)


def pay(at: datetime, amount: int = 10_000) -> PaymentFact:
    return PaymentFact(at, amount)


def promise(
    due: date,
    amount: int = 10_000,
    *,
    created: datetime = T0,
    id: str = "p1",
    status: str = "pending",
) -> PromiseFact:
    return PromiseFact(id, amount, due, created, status)  # type: ignore[arg-type]


def hold(kind: str, until: datetime | None = None) -> HoldFact:
    return HoldFact(kind, until)


def account(**changes: Any) -> AccountFacts:
    """A delinquent account in `reminder`, due 2026-11-01, episode started at T0 (New York)."""
    base = AccountFacts(
        status="delinquent",
        due_date=DUE,
        balance=50_000,
        stage="reminder",
        stage_entered_at=T0,
        episode_started_at=T0,
        timezone=NY,
    )
    return replace(base, **changes)


def policy(**changes: Any) -> PolicyDocument:
    """The default document with top-level JSON changes applied (validated)."""
    document = DEFAULT_POLICY.model_dump(mode="json")
    document.update(changes)
    return PolicyDocument.model_validate(document)


def ny(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A New York wall-clock time as an aware datetime."""
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(NY))
