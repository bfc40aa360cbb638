"""Jurisdiction packs: the contact rules of policy.md's table, every number a field."""

from datetime import datetime, time, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.policy.names import HoldKindName, Jurisdiction, ThirdPartyAllowance

ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["08:00"])]
Count = Annotated[int, Field(ge=1)]


class StrictModel(BaseModel):
    """Unknown fields are rejected everywhere in a policy document."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ThirdPartyRules(StrictModel):
    """Who else may be called (relationship ≠ self), and how."""

    allowed: ThirdPartyAllowance = Field(
        description="location_inquiry: only to learn how to reach the debtor; relay: only to "
        "pass on a call-back request; relay_or_contact_info: either. Never disclose the debt."
    )
    once_per_person: bool = False
    only_after_failed_self_attempts: Count | None = Field(
        default=None,
        description="Allowed only after this many consecutive failed attempts to the debtor "
        "(or, with only_when_self_numbers_invalid, when the debtor's numbers are invalid: "
        "either condition suffices).",
    )
    only_when_self_numbers_invalid: bool = False
    stop_on_refusal: bool = False
    identity_check_first: bool = False


class ContactPack(StrictModel):
    """One jurisdiction's contact rules. `None` means the pack sets no such limit.

    The document checks window_start < window_end (it knows the pack's path).
    """

    window_start: ClockTime = Field(description="Local calling window start, HH:MM (inclusive).")
    window_end: ClockTime = Field(description="Local calling window end, HH:MM (exclusive).")
    max_call_attempts_per_7_days: Count | None = None
    max_unanswered_attempts_per_number_per_day: Count | None = None
    max_conversations_per_day: Count | None = None
    max_conversations_per_7_days: Count | None = None
    max_conversations_per_30_days: Count | None = None
    cooldown_days_after_conversation: Count | None = Field(
        default=None,
        description="No further call for this many calendar days; the conversation day is day 1.",
    )
    third_party: ThirdPartyRules
    hard_stop_holds: list[HoldKindName] = Field(
        default_factory=list,
        max_length=20,
        description="Hold kinds that stop all contact in this jurisdiction, besides the "
        "universal stops (cease, bankruptcy, deceased, do_not_contact, wrong_number).",
    )
    breathing_space_days: Count | None = Field(
        default=None, description="Length of a breathing-space hold given without an end."
    )
    records_retention_years: Count | None = None

    @property
    def window(self) -> tuple[time, time]:
        """The calling window [start, end) as local times."""
        return time.fromisoformat(self.window_start), time.fromisoformat(self.window_end)


def hold_end(
    pack: ContactPack, kind: str, until: datetime | None, now: datetime
) -> datetime | None:
    """When a hold placed at `now` ends: as given, except that a breathing-space hold given
    without an end lasts the pack's `breathing_space_days` (uk_fca: 60), where it has one."""
    if until is None and kind == "breathing_space" and pack.breathing_space_days:
        return now + timedelta(days=pack.breathing_space_days)
    return until


def _default_packs() -> dict[Jurisdiction, ContactPack]:
    return {
        "us_reg_f": ContactPack(
            window_start="08:00",
            window_end="21:00",
            max_call_attempts_per_7_days=7,
            cooldown_days_after_conversation=7,
            third_party=ThirdPartyRules(allowed="location_inquiry", once_per_person=True),
            hard_stop_holds=["dispute", "attorney"],
            records_retention_years=3,
        ),
        "cn_nifa": ContactPack(
            window_start="08:00",
            window_end="22:00",
            max_unanswered_attempts_per_number_per_day=6,
            max_conversations_per_day=3,
            third_party=ThirdPartyRules(
                allowed="relay_or_contact_info",
                only_after_failed_self_attempts=3,
                only_when_self_numbers_invalid=True,
                stop_on_refusal=True,
            ),
            hard_stop_holds=["payment_plan", "dispute"],
            records_retention_years=2,
        ),
        "uk_fca": ContactPack(
            window_start="08:00",
            window_end="21:00",
            max_call_attempts_per_7_days=7,
            max_conversations_per_7_days=3,
            max_conversations_per_30_days=10,
            third_party=ThirdPartyRules(allowed="relay", identity_check_first=True),
            hard_stop_holds=["breathing_space", "dispute", "capacity"],
            breathing_space_days=60,
            records_retention_years=6,
        ),
    }
