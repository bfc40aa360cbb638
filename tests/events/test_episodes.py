"""Counting episodes over an account's status events in (occurred_at, id) order (pure)."""

from datetime import UTC, datetime, timedelta

import pytest

from app.events.parse import Key
from app.events.projection import episode_of

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _history(*statuses: tuple[int, str, str]) -> list[tuple[Key, str]]:
    """(minute, event id, status) → ((occurred_at, id), status)"""
    return [((T0 + timedelta(minutes=m), event_id), status) for m, event_id, status in statuses]


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([], (1, None)),
        ([(0, "open", "delinquent")], (1, None)),
        ([(0, "open", "delinquent"), (5, "c", "cured")], (1, None)),
        ([(0, "o", "delinquent"), (5, "c", "cured"), (9, "d", "delinquent")], (2, 9)),
        # The same events in another arrival order make the same episode.
        ([(9, "d", "delinquent"), (0, "o", "delinquent"), (5, "c", "cured")], (2, 9)),
        # A late cure between two delinquencies opens a second episode at the later one.
        ([(0, "o", "delinquent"), (9, "d", "delinquent"), (5, "c", "closed")], (2, 9)),
        # A delinquency after a delinquency is the same episode; a run starts at its first.
        ([(1, "c", "cured"), (3, "d1", "delinquent"), (4, "d2", "delinquent")], (2, 3)),
        # Ties are broken by event id.
        ([(5, "b", "delinquent"), (5, "a", "charged_off")], (2, 5)),
        ([(5, "a", "delinquent"), (5, "b", "charged_off")], (1, None)),
        (
            [
                (1, "c1", "cured"),
                (2, "d1", "delinquent"),
                (3, "c2", "cured"),
                (4, "d2", "delinquent"),
            ],
            (3, 4),
        ),
    ],
)
def test_episodes_follow_the_order_of_occurrence(
    history: list[tuple[int, str, str]], expected: tuple[int, int | None]
) -> None:
    episode, minute = expected
    started = None if minute is None else T0 + timedelta(minutes=minute)
    assert episode_of(_history(*history)) == (episode, started)
