"""`talking_points(purpose, stage, locale, policy)`: the agent's lines for one call."""

from app.policy.document import PolicyDocument
from app.policy.talking_points import select_lines


def talking_points(
    purpose: str,
    stage: str | None,
    locale: str | None,
    policy: PolicyDocument,
    jurisdiction: str | None = None,
) -> tuple[str, ...]:
    """The lines for a call with this purpose, in the debtor's language (else English).

    Lines about credit reporting or legal action appear only when the policy's
    `reports_to_credit_bureau` / `takes_legal_action` flag is on.
    """
    flags = {
        "reports_to_credit_bureau": policy.reports_to_credit_bureau,
        "takes_legal_action": policy.takes_legal_action,
    }
    return select_lines(policy.talking_points, flags, purpose, stage, locale, jurisdiction)
