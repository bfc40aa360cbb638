"""A tenant's policy document: its schema, its validation, and the shipped default.

The default encodes policy.md (tiering leanings, the stage ladder table, promise rules, cadence
and the three jurisdiction packs). Every model rejects unknown fields. Checks that span fields
or list items run where the path is known, and each error's `loc` points at the fault while its
message names the path too, e.g. ``ladder[3].advance_when: ...``.
"""

from functools import cache
from typing import Annotated, Any, NoReturn
from zoneinfo import available_timezones

from pydantic import (
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from app.policy.names import (
    JURISDICTIONS,
    STAGES,
    Jurisdiction,
    OutcomeName,
    ReasonName,
    StageName,
    TierName,
)
from app.policy.packs import ContactPack, StrictModel, ThirdPartyRules, _default_packs
from app.policy.talking_points import Language, TalkingPoint, talking_point_problems
from app.policy.talking_points_default import default_talking_points

__all__ = [
    "DEFAULT_POLICY",
    "Cadence",
    "Condition",
    "ContactPack",
    "PolicyDocument",
    "PromiseRules",
    "StagePolicy",
    "TalkingPoint",
    "ThirdPartyRules",
    "TierCadence",
    "TierCadences",
    "TierFactors",
    "Tiering",
    "default_document",
]

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str, str, object]  # loc, error type, message, offending input
Count = Annotated[int, Field(ge=1)]
NonNegative = Annotated[int, Field(ge=0)]

DEFAULT_TIMEZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]


def _raise(title: str, problems: list[Problem]) -> NoReturn:
    """Raise every problem at once, each at its own location (nested under the caller's)."""
    raise ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=value)
            for loc, kind, message, value in problems
        ],
    )


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _unset(value: object) -> bool:
    return value is None


class Condition(StrictModel):
    """All set fields must hold. A boolean field requires the fact to have that value
    (`reminder_attempted: false` holds only when no reminder was attempted). Unset fields are
    left out when the document is dumped."""

    dpd_at_least: NonNegative | None = Field(default=None, exclude_if=_unset)
    reminder_attempted: bool | None = Field(default=None, exclude_if=_unset)
    no_pending_promise: bool | None = Field(default=None, exclude_if=_unset)
    broken_promises_at_least: Count | None = Field(default=None, exclude_if=_unset)
    days_without_reaching_debtor_at_least: Count | None = Field(default=None, exclude_if=_unset)

    def parts(self) -> list[tuple[str, int | bool]]:
        """The set fields, in declaration order."""
        return [
            (name, value)
            for name in type(self).model_fields
            if (value := getattr(self, name)) is not None
        ]

    @property
    def label(self) -> str:
        """The trigger name, e.g. ``dpd_at_least:8+no_pending_promise``."""
        words = []
        for name, value in self.parts():
            if value is True:
                words.append(name)
            elif value is False:
                words.append(f"{name}:false")
            else:
                words.append(f"{name}:{value}")
        return "+".join(words)


class StagePolicy(StrictModel):
    name: StageName
    dwell_days: float = Field(ge=0, description="Minimum days in the stage (× tier multiplier).")
    advance_when: list[Condition] = Field(
        default_factory=list,
        max_length=20,
        description="Any one condition (all of its fields) triggers.",
    )


class TierFactors(StrictModel):
    A: float = Field(ge=0)
    B: float = Field(ge=0)
    C: float = Field(ge=0)


def _default_reminder_outcomes() -> dict[OutcomeName, TierName]:
    return {
        "promise_to_pay": "A",
        "reached_debtor": "B",
        "callback_requested": "B",
        "claims_paid": "B",
        "hardship": "B",
        "refused": "C",
        "wrong_number": "C",
    }


def _default_reason_leanings() -> dict[ReasonName, TierName]:
    return {
        "short_payment": "A",
        "payment_channel_error": "A",
        "family_change": "B",
        "income_loss": "B",
        "medical": "B",
        "disaster": "B",
        "wilful_default": "C",
    }


class Tiering(StrictModel):
    reminder_outcomes: dict[OutcomeName, TierName] = Field(
        default_factory=_default_reminder_outcomes,
        description="Base tier from the first reminder call's outcome; any other outcome "
        "(no_answer, busy, voicemail, ...) leaves the base at B.",
    )
    reason_leanings: dict[ReasonName, TierName] = Field(
        default_factory=_default_reason_leanings,
        description="An uncontradicted reason overrides the base; a reason leaning C is also "
        "a C override (applied after promise steps).",
    )
    broken_promises_for_c: Count = 2
    unreachable_days_for_c: Count = 7
    dwell_multiplier: TierFactors = Field(default_factory=lambda: TierFactors(A=1.5, B=1.0, C=0.5))


class PromiseRules(StrictModel):
    grace_days: int = Field(default=3, ge=0, le=60)
    max_days_ahead: int = Field(default=30, ge=1, le=365)


class TierCadence(StrictModel):
    max_call_attempts_per_day: Count


class TierCadences(StrictModel):
    A: TierCadence = Field(default_factory=lambda: TierCadence(max_call_attempts_per_day=1))
    B: TierCadence = Field(default_factory=lambda: TierCadence(max_call_attempts_per_day=2))
    C: TierCadence = Field(default_factory=lambda: TierCadence(max_call_attempts_per_day=2))


class Cadence(StrictModel):
    per_tier: TierCadences = Field(default_factory=TierCadences)
    max_conversations_per_day: Count = 1


def _default_ladder() -> list[StagePolicy]:
    def stage(name: StageName, dwell: float, *conditions: dict[str, Any]) -> StagePolicy:
        when = [Condition.model_validate(c) for c in conditions]
        return StagePolicy(name=name, dwell_days=dwell, advance_when=when)

    return [
        stage("reminder", 1, {"dpd_at_least": 1, "reminder_attempted": True}),
        stage(
            "early",
            7,
            {"dpd_at_least": 8, "no_pending_promise": True},
            {"broken_promises_at_least": 1},
        ),
        stage(
            "network",
            7,
            {"dpd_at_least": 31},
            {"broken_promises_at_least": 2},
            {"days_without_reaching_debtor_at_least": 14},
        ),
        stage("reassigned", 14, {"dpd_at_least": 61}),
        stage("formal_notice", 14, {"dpd_at_least": 91}),
        stage("external", 0),
    ]


class PolicyDocument(StrictModel):
    """One version of a tenant's policy (`GET|PUT /v1/policy` → `document`)."""

    jurisdiction: Jurisdiction = Field(
        default="us_reg_f", description="Default for accounts whose event names none."
    )
    candidate_timezones: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        default_factory=lambda: list(DEFAULT_TIMEZONES),
        min_length=1,
        max_length=50,
        description="IANA zones a contact of unknown zone may be in; a call must fit them all.",
    )
    reports_to_credit_bureau: bool = False
    takes_legal_action: bool = False
    contact_employers: bool = False
    tiering: Tiering = Field(default_factory=Tiering)
    ladder: list[StagePolicy] = Field(default_factory=_default_ladder, max_length=20)
    promises: PromiseRules = Field(default_factory=PromiseRules)
    cadence: Cadence = Field(default_factory=Cadence)
    packs: dict[Jurisdiction, ContactPack] = Field(default_factory=_default_packs)
    talking_points: dict[Language, Annotated[list[TalkingPoint], Field(max_length=500)]] = Field(
        default_factory=default_talking_points,
        description="Lines for agents per language (en is the fallback); each purpose needs "
        "a line in every language listed.",
    )

    def pack_of(self, jurisdiction: str) -> ContactPack:
        """The jurisdiction's pack, else the tenant default's."""
        for name, pack in self.packs.items():
            if name == jurisdiction:
                return pack
        return self.packs[self.jurisdiction]

    @field_validator("candidate_timezones")
    @classmethod
    def _zones_exist(cls, zones: list[str]) -> list[str]:
        known = _known_zones()
        problems: list[Problem] = [
            ((i,), "policy_timezone", f"candidate_timezones[{i}]: unknown time zone {z!r}", z)
            for i, z in enumerate(zones)
            if z not in known
        ]
        if problems:
            _raise("candidate_timezones", problems)
        return zones

    @field_validator("ladder")
    @classmethod
    def _ladder_is_well_formed(cls, ladder: list[StagePolicy]) -> list[StagePolicy]:
        problems = _stage_order_problems(ladder)
        if not problems:
            problems = _trigger_problems(ladder) + _threshold_problems(ladder)
        if problems:
            _raise("ladder", problems)
        return ladder

    @field_validator("packs")
    @classmethod
    def _packs_are_complete(
        cls, packs: dict[Jurisdiction, ContactPack]
    ) -> dict[Jurisdiction, ContactPack]:
        problems: list[Problem] = [
            ((j,), "policy_missing_pack", f"packs.{j}: every jurisdiction needs a pack", None)
            for j in JURISDICTIONS
            if j not in packs
        ]
        for j, pack in packs.items():
            if pack.window_end <= pack.window_start:
                message = (
                    f"packs.{j}.window_end: {pack.window_end} must be after "
                    f"window_start {pack.window_start}"
                )
                problems.append(((j, "window_end"), "policy_window", message, pack.window_end))
        if problems:
            _raise("packs", problems)
        return packs

    @field_validator("talking_points")
    @classmethod
    def _talking_points_cover_every_purpose(
        cls, points: dict[Language, list[TalkingPoint]]
    ) -> dict[Language, list[TalkingPoint]]:
        problems = talking_point_problems(points)
        if problems:
            _raise("talking_points", problems)
        return points

    @model_validator(mode="after")
    def _default_jurisdiction_has_a_pack(self) -> "PolicyDocument":
        # Always true once every jurisdiction has a pack; kept so the rule stays explicit.
        if self.jurisdiction not in self.packs:
            message = f"jurisdiction: no pack for {self.jurisdiction!r}"
            _raise("PolicyDocument", [(("jurisdiction",), "policy_missing_pack", message, None)])
        return self

    def stage(self, name: str) -> StagePolicy:
        return self.ladder[STAGES.index(name)]


def _stage_order_problems(ladder: list[StagePolicy]) -> list[Problem]:
    """Exactly the six stages, in order: no gap, duplicate or reordering."""
    order = ", ".join(STAGES)
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, stage in enumerate(ladder):
        if stage.name in seen:
            first = seen[stage.name]
            message = (
                f"ladder[{i}].name: stage {stage.name!r} is listed twice (first at ladder[{first}])"
            )
            problems.append(((i, "name"), "policy_ladder_duplicate", message, stage.name))
        else:
            seen[stage.name] = i
    missing = [name for name in STAGES if name not in seen]
    if missing:
        message = (
            f"ladder: missing stage(s) {', '.join(missing)}; the ladder lists {order} in that order"
        )
        problems.append(((), "policy_ladder_gap", message, [s.name for s in ladder]))
    if problems:
        return problems
    for i, (stage, expected) in enumerate(zip(ladder, STAGES, strict=True)):
        if stage.name != expected:
            message = (
                f"ladder[{i}].name: expected {expected!r}, got {stage.name!r}; "
                f"the ladder lists {order} in that order"
            )
            problems.append(((i, "name"), "policy_ladder_order", message, stage.name))
    return problems


def _trigger_problems(ladder: list[StagePolicy]) -> list[Problem]:
    problems: list[Problem] = []
    last = len(ladder) - 1
    for i, stage in enumerate(ladder):
        where = f"ladder[{i}].advance_when"
        if i == last and stage.advance_when:
            message = f"{where}: {stage.name} is the last stage and cannot advance; leave it empty"
            problems.append(((i, "advance_when"), "policy_last_stage_trigger", message, None))
        elif i < last and not stage.advance_when:
            message = f"{where}: a stage with no trigger could never advance"
            problems.append(((i, "advance_when"), "policy_no_trigger", message, []))
        for j, condition in enumerate(stage.advance_when):
            if not condition.parts():
                message = f"{where}[{j}]: a condition needs at least one field"
                problems.append(((i, "advance_when", j), "policy_empty_condition", message, {}))
    return problems


def _threshold_problems(ladder: list[StagePolicy]) -> list[Problem]:
    """Each stage's lowest `dpd_at_least` may not be below an earlier stage's."""
    problems: list[Problem] = []
    previous: int | None = None
    for i, stage in enumerate(ladder):
        dpds = [c.dpd_at_least for c in stage.advance_when if c.dpd_at_least is not None]
        if not dpds:
            continue
        lowest = min(dpds)
        if previous is not None and lowest < previous:
            message = (
                f"ladder[{i}].advance_when: dpd threshold {lowest} is below the previous "
                f"stage's {previous} (thresholds out of order)"
            )
            problems.append(((i, "advance_when"), "policy_threshold_order", message, lowest))
        previous = lowest if previous is None else max(previous, lowest)
    return problems


DEFAULT_POLICY = PolicyDocument()


def default_document() -> dict[str, Any]:
    """The shipped default as JSON-able data (what `GET /v1/policy` shows for version 1)."""
    return DEFAULT_POLICY.model_dump(mode="json")
