"""What the demo portfolio is made of: locales, names, products, and how often things happen.

Weights are cumulative (for bisect), out of the last value. Phone ranges are the ones kept for
fiction where a country has them (US 555-01xx, UK 07700 900xxx); China has none.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
Weighted = tuple[tuple[T, ...], tuple[int, ...]]  # options and their cumulative weights
DAY = 86_400


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


RECORDED_BY = "demo"
PARTNERS = ("Northwind Recoveries", "Meridian Collections", "Harbour Credit Services")
STAGES = ("reminder", "early", "network", "reassigned", "formal_notice", "external")
# Days past due from which each stage is where the ladder would have the account by now.
STAGE_FROM_DPD = (0, 2, 9, 32, 62, 92)
GRACE_DAYS = 3  # the default policy's promise grace


@dataclass(frozen=True, slots=True)
class Locale:
    """A debtor's locale: where the rules, the currency, names and phones come from."""

    code: str
    jurisdiction: str
    currency: str
    zones: Weighted[str]
    first_names: tuple[str, ...]  # zh-CN: hanzi then pinyin, "秀英xiuying"
    last_names: tuple[str, ...]


LOCALES: Weighted[Locale] = (
    (
        Locale(
            "zh-CN", "cn_nifa", "CNY", (("Asia/Shanghai",), (1,)),
            words("伟wei 芳fang 娜na 秀英xiuying 敏min 静jing 丽li 强qiang 磊lei 军jun 洋yang "
                  "勇yong 艳yan 杰jie 娟juan 涛tao 明ming 超chao 秀兰xiulan 霞xia 平ping 刚gang "
                  "桂英guiying 建华jianhua 晓燕xiaoyan"),
            words("王wang 李li 张zhang 刘liu 陈chen 杨yang 黄huang 赵zhao 吴wu 周zhou 徐xu "
                  "孙sun 马ma 朱zhu 胡hu 郭guo 何he 林lin 罗luo 高gao"),
        ),
        Locale(
            "en-US", "us_reg_f", "USD",
            (("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
             (45, 70, 80, 100)),
            words("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth "
                  "William Barbara Richard Susan Joseph Jessica Thomas Sarah Daniel Karen Maria "
                  "Jose Aaliyah Kevin Ashley"),
            words("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez "
                  "Hernandez Lopez Gonzalez Wilson Anderson Taylor Moore Jackson Martin Lee "
                  "Nguyen Patel Kim Thompson"),
        ),
        Locale(
            "en-GB", "uk_fca", "GBP", (("Europe/London",), (1,)),
            words("Oliver Amelia George Olivia Harry Isla Jack Ava Noah Emily Charlie Sophie "
                  "Thomas Grace Oscar Mia William Poppy Muhammad Ella"),
            words("Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright "
                  "Thompson Evans Walker White Roberts Green Hall Wood Clarke Khan Patel"),
        ),
    ),
    (35, 80, 100),
)  # fmt: skip
US_AREA_CODES = {
    "America/New_York": (212, 718, 917, 646, 347, 516, 201),
    "America/Chicago": (312, 773, 872, 630, 214, 713),
    "America/Denver": (303, 720, 801, 505),
    "America/Los_Angeles": (213, 310, 323, 818, 415, 206),
}
CN_MOBILE = (*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, *range(180, 190))
PRODUCTS = ("personal_loan_12m", "personal_loan_24m", "instalment_6m", "credit_line", "bnpl_3m")
STATUSES: Weighted[str] = (("delinquent", "cured", "closed", "charged_off"), (950, 975, 990, 1000))
DPD_BUCKETS: Weighted[tuple[int, int]] = (
    ((0, 1), (2, 8), (9, 31), (32, 61), (62, 91), (92, 200)),
    (12, 36, 66, 81, 90, 100),
)
REFERENCES: Weighted[tuple[str, tuple[str, ...]]] = (
    (("spouse", ("wife", "husband")), ("parent", ("mother", "father")),
     ("relative", ("brother", "sister", "cousin")), ("friend", ("friend",)),
     ("colleague", ("colleague",))),
    (25, 50, 70, 90, 100),
)  # fmt: skip
SELF_OUTCOMES: Weighted[str] = (
    ("no_answer", "busy", "voicemail", "reached_debtor", "promise_to_pay", "callback_requested",
     "refused"),
    (34, 42, 56, 72, 77, 85, 89),
)  # fmt: skip
THIRD_PARTY_OUTCOMES: Weighted[str] = (
    ("no_answer", "busy", "voicemail", "reached_third_party"),
    (45, 55, 70, 100),
)
REASONS: Weighted[str] = (
    ("short_payment", "payment_channel_error", "family_change", "income_loss", "medical",
     "wilful_default", "other", "unknown"),
    (20, 30, 45, 65, 73, 78, 85, 100),
)  # fmt: skip
RESOLUTIONS: Weighted[str] = (("kept", "partially_kept", "broken"), (45, 65, 100))
# The default policy's tiering (app/policy/tiering.py): 0 = A, 1 = B, 2 = C.
REMINDER_TIER = {"promise_to_pay": 0, "refused": 2, "wrong_number": 2}
REASON_TIER = {"short_payment": 0, "payment_channel_error": 0, "family_change": 1,
                "income_loss": 1, "medical": 1, "wilful_default": 2}  # fmt: skip
NOT_CONVERSATION = frozenset(("no_answer", "busy", "voicemail", "wrong_number",
                               "reached_third_party"))  # fmt: skip
TALKED = frozenset(("reached_debtor", "promise_to_pay", "callback_requested", "refused"))


def tier(
    outcomes: Sequence[str], reason: str | None, promises: Sequence[str], episode_days: int
) -> tuple[str, int, tuple[str, ...]]:
    """Tier, score and rules as the default policy (app/policy/tiering.py) would decide them
    from an account's call outcomes, reason and promise statuses, all in time order."""
    if not outcomes:
        return "B", 50, ("not_yet_contacted",)
    first = outcomes[0]
    index, rules = REMINDER_TIER.get(first, 1), [f"reminder_outcome:{first}"]
    if reason in REASON_TIER:
        index = REASON_TIER[reason]
        rules.append(f"reason:{reason}")
    for state in promises:
        if state in ("kept", "broken"):
            index = max(0, index - 1) if state == "kept" else min(2, index + 1)
            rules.append(f"promise_{state}")
    talked = any(outcome not in NOT_CONVERSATION for outcome in outcomes)
    broken = promises.count("broken")
    for rule, applies in (
        ("override:wilful_default", reason == "wilful_default"),
        ("override:broken_promises", broken >= 2),
        ("override:unreachable", not talked and episode_days >= 7),
    ):
        if applies:
            index = 2
            rules.append(rule)
    adjustment = 5 * promises.count("kept") + 2 * promises.count("partially_kept")
    adjustment += -5 * broken + (4 if talked else 0)
    return "ABC"[index], (80, 50, 20)[index] + max(-14, min(14, adjustment)), tuple(rules)
