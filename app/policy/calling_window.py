"""The local calling window [start, end), on instants, exact across DST transitions.

An instant is inside the window when its wall-clock time in the zone is in [start, end) on
its own local day. A lease [at, at + lease) fits when every instant of it is inside the
window of one local day. Offsets are constant between transitions, so a lease is split at
any transition it spans and each piece is checked on the wall clock; nonexistent (skipped)
and ambiguous (repeated) local times fall out of that exactly, with no special cases.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from app.policy.localtime import zone

_TICK = timedelta(microseconds=1)
_SECOND = timedelta(seconds=1)
_ONE_DAY = timedelta(days=1)


def offset_at(at: datetime, tz: ZoneInfo) -> timedelta:
    """The zone's UTC offset in force at the instant `at`."""
    offset = at.astimezone(tz).utcoffset()
    return offset if offset is not None else timedelta(0)


def _first_change(lo: datetime, hi: datetime, tz: ZoneInfo) -> datetime:
    """The transition instant in (lo, hi], given that the offsets at lo and hi differ."""
    before = offset_at(lo, tz)
    while hi - lo > _SECOND:
        mid = lo + (hi - lo) / 2
        if offset_at(mid, tz) == before:
            lo = mid
        else:
            hi = mid
    whole = hi.replace(microsecond=0)
    return whole if whole > lo and offset_at(whole, tz) != before else hi


def _pieces(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """[start, end) split where the zone's offset changes (at most once per transition)."""
    pieces: list[tuple[datetime, datetime]] = []
    while True:
        if offset_at(start, tz) == offset_at(end - _TICK, tz):
            pieces.append((start, end))
            return pieces
        change = _first_change(start, end - _TICK, tz)
        pieces.append((start, change))
        start = change


# Pure, and asked the same question over and over: every contact in a zone at one instant (a
# queue's `now`, a search's day starts) shares the answer.
@lru_cache(maxsize=65536)
def lease_fits(at: datetime, lease: timedelta, zone_name: str, start: time, end: time) -> bool:
    """Every instant of [at, at + lease) is inside the window [start, end) of its local day.

    A zero lease asks about the instant `at` alone.
    """
    tz = zone(zone_name)
    at = at.astimezone(UTC)  # wall times below are UTC + offset
    stop = at + max(lease, _TICK)
    for piece_start, piece_end in _pieces(at, stop, tz):
        offset = offset_at(piece_start, tz)
        local_start = (piece_start + offset).replace(tzinfo=None)
        local_end = (piece_end + offset).replace(tzinfo=None)
        if local_start.time() < start:
            return False
        if local_end > datetime.combine(local_start.date(), end):
            return False
    return True


@lru_cache(maxsize=16384)
def wall_clock_reaches(day: date, wall: time, zone_name: str) -> tuple[datetime, ...]:
    """The instants (UTC) at which the zone's wall clock shows `wall` on `day`.

    Two when the time is repeated (fall-back), one normally, and for a skipped time
    (spring-forward) the transition instant, when the clock jumps past it.
    """
    tz = zone(zone_name)
    naive = datetime.combine(day, wall)
    found = []
    for fold in (0, 1):
        instant = naive.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == naive and instant not in found:
            found.append(instant)
    if not found:
        a = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
        b = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
        found.append(_first_change(min(a, b), max(a, b), tz))
    return tuple(sorted(found))


@lru_cache(maxsize=16384)
def _transitions_on(day: date, zone_name: str) -> tuple[datetime, ...]:
    """Offset transitions during `day` (local), at most one in every real zone."""
    tz = zone(zone_name)
    first = datetime.combine(day, time(0)).replace(tzinfo=tz).astimezone(UTC)
    last = datetime.combine(day + _ONE_DAY, time(0)).replace(tzinfo=tz).astimezone(UTC)
    if offset_at(first, tz) == offset_at(last, tz):
        return ()
    return (_first_change(first, last, tz),)


@lru_cache(maxsize=65536)
def next_fit(
    at: datetime, lease: timedelta, zone_name: str, start: time, end: time
) -> datetime | None:
    """The earliest instant ≥ `at` from which a lease fits the window in this zone.

    A run of in-window instants begins at `at`, at a wall-clock start time or at a transition,
    so only those candidates need checking. None when no run within three days is long
    enough for the lease (the window is shorter than the lease).
    """
    at = at.astimezone(UTC)
    if lease_fits(at, lease, zone_name, start, end):
        return at
    today = at.astimezone(zone(zone_name)).date()
    for days in range(-1, 4):
        day = today + timedelta(days=days)
        candidates = wall_clock_reaches(day, start, zone_name) + _transitions_on(day, zone_name)
        for candidate in sorted(c for c in candidates if c > at):
            if lease_fits(candidate, lease, zone_name, start, end):
                return candidate
    return None
