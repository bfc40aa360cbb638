"""Where a new delinquency episode starts, and days past due (policy.md, Definitions)."""

from dataclasses import dataclass, field
from datetime import date, datetime

NOT_YET_CONTACTED = "not_yet_contacted"
FIRST_STAGE = "reminder"


@dataclass(frozen=True, slots=True)
class EpisodeStart:
    stage: str
    stage_entered_at: datetime
    tier: str
    tier_reasons: list[str] = field(default_factory=list)


def start_episode(now: datetime) -> EpisodeStart:
    """Before any interaction an account is tier B with reason `not_yet_contacted`."""
    return EpisodeStart(FIRST_STAGE, now, "B", [NOT_YET_CONTACTED])


def days_past_due(status: str, due_date: date, today: date) -> int:
    if status != "delinquent":
        return 0
    return max(0, (today - due_date).days)
