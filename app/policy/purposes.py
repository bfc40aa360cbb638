"""Which call a contact gets: the task `purpose` from the stage and the account's state.

Issue 4, item 3 and policy.md: third parties only from the `network` stage on, and only as
the pack allows (`location_inquiry` where it allows no more, else `relay_request`); while a
promise is pending, only one `promise_reminder` the day before it falls due; after a payment,
one `payment_confirmation`; `reminder` in the reminder stage; no `collect` while the balance
is ≤ 0. Whether the contact may be called at all is `decide_contact`'s question.
"""

from datetime import date, timedelta
from typing import Final

from app.policy.contact_facts import AccountContactFacts, ContactFacts
from app.policy.document import ContactPack
from app.policy.names import STAGES, Purpose

THIRD_PARTY_PURPOSES: Final[frozenset[str]] = frozenset({"relay_request", "location_inquiry"})
_THIRD_PARTIES_FROM = STAGES.index("network")


def choose_purpose(
    account: AccountContactFacts,
    contact: ContactFacts,
    pack: ContactPack,
    today: date,
    *,
    payment_to_confirm: bool = False,
) -> Purpose | None:
    """The purpose of the next call to `contact`, or None when it gets no call.

    `today` is the debtor's local date; `payment_to_confirm` says a payment arrived that no
    `payment_confirmation` call has followed yet (the dialer knows its tasks).
    """
    if account.status != "delinquent" or account.stage is None:
        return None
    if contact.is_third_party:
        if STAGES.index(account.stage) < _THIRD_PARTIES_FROM:
            return None
        return (
            "location_inquiry"
            if pack.third_party.allowed == "location_inquiry"
            else "relay_request"
        )
    if payment_to_confirm:
        return "payment_confirmation"
    if account.pending_promise_due is not None:
        if today == account.pending_promise_due - timedelta(days=1):
            return "promise_reminder"
        return None
    if account.stage == "reminder":
        return "reminder"
    return "collect" if account.balance > 0 else None
