"""Talking points: short, stage- and purpose-specific lines for the agent, from the policy.

The document holds lines per language (`en`, `zh`; `en` is the fallback). A line names the
purposes it serves and, optionally, the stages and jurisdictions it is limited to, and the
policy flag it depends on: a line about credit reporting or legal action is shown only when
the tenant's policy says the lender really does that (`requires`), and validation refuses
such a line without that flag, and any line that threatens.
"""

import re
from typing import Annotated, Final, Literal

from pydantic import Field, StringConstraints, field_validator

from app.policy.names import PURPOSES, Jurisdiction, PolicyFlag, Purpose, StageName
from app.policy.packs import StrictModel

Language = Literal["en", "zh"]
Problem = tuple[tuple[str | int, ...], str, str, object]  # loc, error type, message, input
LineText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]

# Words no talking point may contain: collection is firm, never a threat.
_THREATS: Final = re.compile(
    r"\b(arrest|jail|prison|police|criminal|shame|expose|embarrass|violence)\w*|"
    r"逮捕|坐牢|拘留|报警|公安|曝光|丢脸|通讯录",
    re.IGNORECASE,
)
# A line mentioning a consequence must depend on the flag saying the lender applies it.
_CONSEQUENCES: Final[dict[str, re.Pattern[str]]] = {
    "reports_to_credit_bureau": re.compile(
        r"\bcredit (bureaus?|report\w*|records?|files?)\b|征信", re.I
    ),
    "takes_legal_action": re.compile(
        r"\b(legal(ly)?|courts?|lawsuits?|su(e|ed|ing)|litigation)\b|诉讼|起诉|法律|法院", re.I
    ),
}


class TalkingPoint(StrictModel):
    text: LineText
    purposes: list[Purpose] = Field(
        min_length=1, max_length=32, description="The task purposes it serves."
    )
    stages: list[StageName] = Field(
        default_factory=list,
        max_length=32,
        description="Only in these stages (empty: every stage).",
    )
    jurisdictions: list[Jurisdiction] = Field(
        default_factory=list,
        max_length=32,
        description="Only under these packs (empty: every pack).",
    )
    requires: PolicyFlag | None = Field(
        default=None,
        description="Shown only when this policy flag is true (a consequence the lender "
        "really applies).",
    )

    @field_validator("text")
    @classmethod
    def _never_a_threat(cls, text: str) -> str:
        found = _THREATS.search(text)
        if found:
            raise ValueError(f"talking points never threaten: {found.group(0)!r} is not allowed")
        return text

    def consequence_without_flag(self) -> str | None:
        """The flag this line's wording needs but does not require, if any."""
        for flag, pattern in _CONSEQUENCES.items():
            if pattern.search(self.text) and self.requires != flag:
                return flag
        return None

    def applies(self, purpose: str, stage: str | None, jurisdiction: str | None) -> bool:
        return (
            purpose in self.purposes
            and (not self.stages or stage in self.stages)
            and (not self.jurisdictions or jurisdiction in self.jurisdictions)
        )


def language_of(locale: str | None) -> str:
    """The primary language subtag of a BCP 47 locale: "zh-CN" → "zh", "en_US" → "en"."""
    if not locale:
        return "en"
    return re.split(r"[-_]", locale.strip(), maxsplit=1)[0].lower() or "en"


def select_lines(
    lines_by_language: dict[Language, list[TalkingPoint]],
    flags: dict[str, bool],
    purpose: str,
    stage: str | None,
    locale: str | None,
    jurisdiction: str | None = None,
) -> tuple[str, ...]:
    """The lines for a call, in the debtor's language (else English), in document order."""
    language = language_of(locale)
    lines = lines_by_language.get(language) or lines_by_language.get("en") or []  # type: ignore[call-overload]
    return tuple(
        line.text
        for line in lines
        if line.applies(purpose, stage, jurisdiction)
        and (line.requires is None or flags.get(line.requires, False))
    )


def talking_point_problems(points: dict[Language, list[TalkingPoint]]) -> list[Problem]:
    """What makes a document's talking points unusable: no English, a consequence line
    without its flag, a purpose without a line in some language."""
    problems: list[Problem] = []
    if "en" not in points:
        message = "talking_points: English (en) lines are required; they are the fallback"
        problems.append(((), "policy_talking_points_language", message, sorted(points)))
    for language, lines in points.items():
        for i, line in enumerate(lines):
            flag = line.consequence_without_flag()
            if flag is not None:
                message = (
                    f"talking_points.{language}[{i}].requires: a line about this consequence "
                    f"must require {flag!r} (only consequences the lender applies)"
                )
                loc = (language, i, "requires")
                problems.append((loc, "policy_talking_point_flag", message, line.requires))
        covered = {purpose for line in lines for purpose in line.purposes}
        missing = [p for p in PURPOSES if p not in covered]
        if missing:
            message = f"talking_points.{language}: no line for {', '.join(missing)}"
            problems.append(((language,), "policy_talking_points_gap", message, missing))
    return problems
