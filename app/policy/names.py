"""The names the policy speaks in, as plain literals.

They mirror `app.models.enums` (a test keeps the two in step) but are declared here because
importing `app.models` would pull in SQLAlchemy, and this package stays pure.
"""

from typing import Final, Literal, get_args

Jurisdiction = Literal["us_reg_f", "cn_nifa", "uk_fca"]
StageName = Literal["reminder", "early", "network", "reassigned", "formal_notice", "external"]
TierName = Literal["A", "B", "C"]
OutcomeName = Literal[
    "no_answer",
    "busy",
    "voicemail",
    "wrong_number",
    "reached_debtor",
    "reached_third_party",
    "promise_to_pay",
    "refused",
    "dispute",
    "claims_paid",
    "hardship",
    "callback_requested",
    "cease_request",
    "deceased_reported",
    "bankruptcy_reported",
]
ReasonName = Literal[
    "family_change",
    "short_payment",
    "payment_channel_error",
    "wilful_default",
    "income_loss",
    "medical",
    "disaster",
    "dispute",
    "other",
    "unknown",
]
HoldKindName = Literal[
    "hardship",
    "disaster",
    "dispute",
    "payment_plan",
    "attorney",
    "breathing_space",
    "capacity",
    "manual",
]
ThirdPartyAllowance = Literal["location_inquiry", "relay", "relay_or_contact_info"]
Purpose = Literal[
    "reminder",
    "collect",
    "relay_request",
    "location_inquiry",
    "promise_reminder",
    "payment_confirmation",
]
PolicyFlag = Literal["reports_to_credit_bureau", "takes_legal_action"]

JURISDICTIONS: Final[tuple[str, ...]] = get_args(Jurisdiction)
STAGES: Final[tuple[str, ...]] = get_args(StageName)
TIERS: Final[tuple[str, ...]] = get_args(TierName)
OUTCOMES: Final[tuple[str, ...]] = get_args(OutcomeName)
REASONS: Final[tuple[str, ...]] = get_args(ReasonName)
HOLD_KINDS: Final[tuple[str, ...]] = get_args(HoldKindName)
PURPOSES: Final[tuple[str, ...]] = get_args(Purpose)

# A call with a `self` contact is a conversation (right-party contact) unless its outcome is
# one of these (policy.md, Definitions).
NOT_A_CONVERSATION: Final[frozenset[str]] = frozenset(
    {"no_answer", "busy", "voicemail", "wrong_number", "reached_third_party"}
)
# Stops that block the ladder. `cease` blocks only the outreach stages: under a cease request
# the account may still move to the remedies that need no call (policy.md).
LADDER_STOPS: Final[frozenset[str]] = frozenset({"bankruptcy", "deceased"})
STAGES_UNDER_CEASE: Final[frozenset[str]] = frozenset({"formal_notice", "external"})
