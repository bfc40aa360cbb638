"""Calendar days in a named time zone, cached: the hot path never re-reads tzdata."""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

_ZONES: dict[str, ZoneInfo] = {}
_MIDNIGHT = time(0)
_ONE_DAY = timedelta(days=1)


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name (raises ZoneInfoNotFoundError for an unknown one)."""
    found = _ZONES.get(name)
    if found is None:
        found = _ZONES[name] = ZoneInfo(name)
    return found


def local_date(at: datetime, timezone: str) -> date:
    """The calendar day `at` falls on in `timezone`."""
    return at.astimezone(zone(timezone)).date()


@lru_cache(maxsize=8192)
def start_of_day(day: date, timezone: str) -> datetime:
    """The first instant of `day` in `timezone`, in UTC.

    `fold=0` resolves a skipped midnight (a DST gap) to the instant the day really begins, and
    a repeated one to its first occurrence.
    """
    return datetime.combine(day, _MIDNIGHT, tzinfo=zone(timezone)).astimezone(UTC)


def end_of_day(day: date, timezone: str) -> datetime:
    """The first instant after `day` in `timezone` (exclusive end), in UTC."""
    return start_of_day(day + _ONE_DAY, timezone)


def next_start_of_day(at: datetime, timezone: str) -> datetime:
    """The next local midnight strictly after `at`."""
    return start_of_day(local_date(at, timezone) + _ONE_DAY, timezone)
