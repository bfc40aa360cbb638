"""The shipped talking points (English and Chinese): firm, factual, never a threat."""

from typing import Any

from app.policy.talking_points import Language, TalkingPoint

AFTER_REMINDER = ["early", "network", "reassigned", "formal_notice", "external"]
LATE = ["formal_notice", "external"]

# (purposes, English, Chinese, extra fields)
_LINES: list[tuple[list[str], str, str, dict[str, Any]]] = [
    (
        ["reminder"],
        "Say who you are and why you call: the payment due on the due date has not arrived.",
        "先说明身份和来电目的：到期应还的款项尚未收到。",
        {},
    ),
    (
        ["reminder", "collect"],
        "Ask whether anything changed (job, business, family) that affects the payment.",
        "了解工作、生意或家庭是否有变化影响还款。",
        {},
    ),
    (
        ["reminder"],
        "If the payment failed by mistake (wrong or lost card, channel problem), fix it now.",
        "如果是扣款卡错误、卡丢失或渠道问题导致未还款，当场协助解决。",
        {},
    ),
    (
        ["collect"],
        "State the purpose directly: the account is overdue and the payment is needed now.",
        "直接说明来电目的：账户已逾期，需要尽快还款。",
        {},
    ),
    (
        ["reminder", "collect"],
        "Ask for a firm date and amount, and repeat both back to confirm.",
        "请对方给出明确的还款日期和金额，并复述确认。",
        {},
    ),
    (
        ["collect"],
        "If money is short, agree what can be paid now and when the rest will follow.",
        "如果资金紧张，商定现在能还多少、余款何时还清。",
        {},
    ),
    (
        ["collect"],
        "You are the new contact for this account: introduce yourself and start afresh.",
        "说明您是该账户新的负责人，重新建立沟通。",
        {"stages": ["reassigned"]},
    ),
    (
        ["collect"],
        "Explain factually that the lender reports overdue accounts to the credit bureau.",
        "如实说明：逾期记录会按规定报送征信系统。",
        {"requires": "reports_to_credit_bureau", "stages": AFTER_REMINDER},
    ),
    (
        ["collect"],
        "Explain factually that unpaid accounts may be referred for legal review.",
        "如实说明：长期未还的账户可能转交法律审查。",
        {"requires": "takes_legal_action", "stages": LATE},
    ),
    (
        ["reminder", "collect", "promise_reminder", "payment_confirmation"],
        "Stay calm and courteous; never raise your voice or press for more than was agreed.",
        "保持冷静和礼貌，不提高音量，不逼迫对方超出约定。",
        {},
    ),
    (
        ["relay_request"],
        "Ask for the debtor by name; say only that it is a personal matter.",
        "找本人时只说有私人事务，不透露其他信息。",
        {},
    ),
    (
        ["relay_request"],
        "Confirm who you are speaking to before you pass on any message.",
        "传达任何信息前，先确认对方身份。",
        {"jurisdictions": ["uk_fca"]},
    ),
    (
        ["relay_request"],
        "Ask them to pass on a request to call back on this number; never say why.",
        "请对方转告本人回电此号码，不说明原因。",
        {},
    ),
    (
        ["relay_request", "location_inquiry"],
        "If they decline, thank them and end the call; never press a third party.",
        "如果对方不愿意，道谢后结束通话，绝不为难第三方。",
        {},
    ),
    (
        ["location_inquiry"],
        "Give your name and say you are confirming contact details; name your company "
        "only if asked.",
        "报出您的姓名，说明是在核实联系方式；对方询问时才说明公司名称。",
        {},
    ),
    (
        ["location_inquiry"],
        "Ask only for the person's home address, phone number or place of work.",
        "只询问本人的住址、电话或工作单位。",
        {},
    ),
    (
        ["location_inquiry"],
        "Never say why you are looking for the person; they are called only once.",
        "绝不说明寻找本人的原因；此人只联系一次。",
        {},
    ),
    (
        ["promise_reminder"],
        "Remind them of the amount and date they promised (tomorrow) and thank them for it.",
        "提醒对方明天是约定的还款日和金额，并感谢对方的承诺。",
        {},
    ),
    (
        ["promise_reminder"],
        "Check the payment channel works; help if anything stands in the way.",
        "确认还款渠道可用，如有障碍及时协助。",
        {},
    ),
    (
        ["payment_confirmation"],
        "Confirm the payment arrived and thank them.",
        "确认款项已收到，并表示感谢。",
        {},
    ),
    (
        ["payment_confirmation"],
        "Ask them to pay on time next time; mention any remaining balance and its date.",
        "请对方下次按时还款；如有剩余欠款，说明金额和日期。",
        {},
    ),
]


def default_talking_points() -> dict[Language, list[TalkingPoint]]:
    def lines(index: int) -> list[TalkingPoint]:
        return [
            TalkingPoint.model_validate({"text": line[index], "purposes": line[0], **line[3]})
            for line in _LINES
        ]

    return {"en": lines(1), "zh": lines(2)}
