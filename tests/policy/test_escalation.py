from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.policy.escalation import days_past_due, start_episode

statuses = st.sampled_from(["delinquent", "cured", "closed", "charged_off"])
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))


@given(statuses, dates, dates)
def test_days_past_due_is_never_negative_and_zero_off_the_ladder(
    status: str, due: date, today: date
) -> None:
    dpd = days_past_due(status, due, today)
    assert dpd >= 0
    if status != "delinquent":
        assert dpd == 0


@given(dates, dates, st.integers(min_value=0, max_value=1000))
def test_days_past_due_grows_one_per_day(due: date, today: date, extra: int) -> None:
    before = days_past_due("delinquent", due, today)
    after = days_past_due("delinquent", due, today + timedelta(days=extra))
    assert after >= before
    if today >= due:
        assert after - before == extra


def test_due_today_is_zero_and_yesterday_is_one() -> None:
    assert days_past_due("delinquent", date(2026, 11, 1), date(2026, 11, 1)) == 0
    assert days_past_due("delinquent", date(2026, 11, 1), date(2026, 11, 2)) == 1


def test_an_episode_starts_at_reminder_as_tier_b_not_yet_contacted() -> None:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    episode = start_episode(now)
    assert (episode.stage, episode.tier, episode.tier_reasons) == (
        "reminder",
        "B",
        ["not_yet_contacted"],
    )
    assert episode.stage_entered_at == now
