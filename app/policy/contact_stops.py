"""The rules time never lifts: stops, statuses, and who else may be called (third parties)."""

from collections.abc import Sequence

from app.policy.contact_facts import (
    FAILED_OUTCOMES,
    INVALID_CONTACT_STATUSES,
    AccountContactFacts,
    CallRecord,
    ContactFacts,
    RuleCheck,
)
from app.policy.document import ContactPack, PolicyDocument
from app.policy.names import STAGES

_STOPS = {
    "cease": ("cease_request", "The debtor asked us to stop contacting them."),
    "bankruptcy": ("bankruptcy", "The debtor is in bankruptcy."),
    "deceased": ("deceased", "The debtor is deceased."),
}
_STATUSES = {
    "do_not_contact": "This contact is marked do-not-contact.",
    "wrong_number": "This number is marked as a wrong number.",
}
_WORKPLACE = frozenset({"employer", "colleague"})
_THIRD_PARTIES_FROM = STAGES.index("network")
# A third party counts as contacted once a call to them was not simply unanswered.
_NOT_REACHED = frozenset({"no_answer", "busy"})


def _block(rule: str, detail: str) -> RuleCheck:
    return RuleCheck(rule, False, detail, None)


def static_checks(
    account: AccountContactFacts,
    contact: ContactFacts,
    history: Sequence[CallRecord],
    policy: PolicyDocument,
    pack: ContactPack,
) -> list[RuleCheck]:
    """The blocking rules that no passing of time lifts (empty: none blocks)."""
    checks: list[RuleCheck] = []
    if contact.kind != "phone":
        checks.append(_block("not_a_phone", f"A {contact.kind} contact is not called."))
    if account.status != "delinquent":
        detail = f"The account is {account.status}: no collection calls."
        checks.append(_block("account_not_delinquent", detail))
    for stop in sorted(account.stops):
        if stop in _STOPS:
            checks.append(_block(*_STOPS[stop]))
    for kind in pack.hard_stop_holds:
        if kind in account.holds:
            detail = f"An active {kind} hold stops all contact in {account.jurisdiction}."
            checks.append(_block(f"hard_stop:{kind}", detail))
    if contact.status in _STATUSES:
        checks.append(_block(contact.status, _STATUSES[contact.status]))
    if contact.relationship in _WORKPLACE and not policy.contact_employers:
        detail = f"The tenant's policy does not contact a debtor's {contact.relationship}."
        checks.append(_block("employer_contact_off", detail))
    if contact.is_third_party:
        checks.extend(_third_party_checks(account, contact, history, pack))
    return checks


def _third_party_checks(
    account: AccountContactFacts,
    contact: ContactFacts,
    history: Sequence[CallRecord],
    pack: ContactPack,
) -> list[RuleCheck]:
    rules = pack.third_party
    checks: list[RuleCheck] = []
    stage = account.stage
    if stage is None or STAGES.index(stage) < _THIRD_PARTIES_FROM:
        detail = f"References are called only from the network stage on (stage: {stage})."
        checks.append(_block("third_party_not_allowed_yet", detail))
    needs_failures = rules.only_after_failed_self_attempts
    if needs_failures is not None or rules.only_when_self_numbers_invalid:
        invalid = rules.only_when_self_numbers_invalid and self_numbers_invalid(account)
        failed = needs_failures is not None and failed_self_attempts(history) >= needs_failures
        if not (invalid or failed):
            detail = (
                f"{account.jurisdiction} allows a reference only after the debtor's numbers "
                f"are invalid or {needs_failures} consecutive failed attempts to the debtor."
            )
            checks.append(_block("third_party_debtor_reachable", detail))
    calls_here = [c for c in history if c.contact_id == contact.id and c.is_attempt]
    if rules.once_per_person and any(c.outcome not in _NOT_REACHED for c in calls_here):
        detail = f"{account.jurisdiction} allows one location inquiry per person; it was made."
        checks.append(_block("third_party_once_per_person", detail))
    if rules.stop_on_refusal and any(c.outcome == "refused" for c in calls_here):
        checks.append(_block("third_party_refused", "This reference refused; not called again."))
    return checks


def self_numbers_invalid(account: AccountContactFacts) -> bool:
    """None of the debtor's own phone numbers is usable (or there are none)."""
    return all(
        c.status in INVALID_CONTACT_STATUSES
        for c in account.contacts
        if c.relationship == "self" and c.kind == "phone"
    )


def failed_self_attempts(history: Sequence[CallRecord]) -> int:
    """Failed attempts to the debtor in a row, most recent first (live leases skipped; a
    conversation, even on an inbound call, ends the run)."""
    calls = sorted(
        (
            c
            for c in history
            if c.outcome and (c.is_conversation or (c.relationship == "self" and c.is_attempt))
        ),
        key=lambda c: c.occurred_at,
        reverse=True,
    )
    count = 0
    for call in calls:
        if call.outcome not in FAILED_OUTCOMES:
            break
        count += 1
    return count
