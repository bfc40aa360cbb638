"""The episode summary stands for the interactions and payments it summarises: evaluating
from it decides exactly what evaluating from the rows decides (while no fact is after now)."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given

from app.policy.digest import digest, summarize
from app.policy.document import DEFAULT_POLICY
from app.policy.evaluation import evaluate
from app.policy.facts import AccountFacts, EpisodeSummary
from tests.policy.builders import T0, account, call, days, pay
from tests.policy.test_properties import PROFILE, accounts


def _summarised(facts: AccountFacts) -> AccountFacts:
    summary = summarize(facts.interactions, facts.payments)
    return replace(facts, interactions=(), summary=summary)


@PROFILE
@given(accounts())
def test_evaluating_from_the_summary_decides_as_from_the_rows(
    case: tuple[AccountFacts, datetime],
) -> None:
    facts, now = case
    # The summary stands for the rows only while none is dated after now (the loader reads
    # the rows otherwise): move any such fact to now.
    facts = replace(
        facts,
        interactions=tuple(
            replace(i, occurred_at=min(i.occurred_at, now)) for i in facts.interactions
        ),
        payments=tuple(replace(p, occurred_at=min(p.occurred_at, now)) for p in facts.payments),
    )
    summarised = _summarised(facts)
    since = facts.stage_entered_at
    assert digest(summarised, now, since) == digest(facts, now, since)
    assert evaluate(summarised, DEFAULT_POLICY, now) == evaluate(facts, DEFAULT_POLICY, now)


def test_the_summary_counts_calls_conversations_and_the_first_reminder() -> None:
    facts = account(
        interactions=(
            call(T0 + days(2), "reached_debtor"),
            call(T0 + days(1), "no_answer"),
            call(T0 + days(1), "busy"),  # same instant: the smaller outcome is first
            call(T0 + days(3), "reached_third_party", relationship="spouse"),
            call(T0 + days(4), "reached_debtor", direction="inbound"),
            call(T0 + days(5), "refused", channel="sms"),
        ),
        payments=(pay(T0 + days(6)), pay(T0 + days(2))),
    )
    assert summarize(facts.interactions, facts.payments) == EpisodeSummary(
        interactions=6,
        call_attempts=4,
        conversations=2,
        first_reminder_at=T0 + days(1),
        first_reminder_outcome="busy",
        last_self_call_at=T0 + days(2),
        last_conversation_at=T0 + days(4),
        last_payment_at=T0 + days(6),
        latest_fact_at=T0 + days(6),
    )


def test_a_summary_with_a_fact_after_now_is_refused() -> None:
    facts = _summarised(account(interactions=(call(T0 + days(2)),)))
    with pytest.raises(ValueError, match="after now"):
        digest(facts, T0 + days(2) - timedelta(seconds=1))
