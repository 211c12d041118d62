"""The incident clock: when a response or resolution is due, how much time is left, whether it
is breached. Pure functions of instants (aware datetimes), a target and the pauses; no database.

A target counts either around the clock (every real minute: across a clock change a 4-hour
target is 4 real hours, whatever the wall clock says) or in working hours, 09:00-17:00 London
time on working days of England and Wales (portal.calendar_uk: weekends and bank holidays do not
count). 09:00 and 17:00 are London wall-clock times, so a working day is 8 real hours on both
sides of a clock change, and the UTC instants of its window move by an hour.

The clock stops while it is paused (the incident awaits the user, or lay resolved until it was
re-opened): paused minutes never count, and while a pause is open there is no due time (it
moves on with every minute of the pause), only the time left, which stands still.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from portal.calendar_uk import is_working_day

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
DAY_START = dt.time(9, 0)
DAY_END = dt.time(17, 0)
# A due time further than this is not searched for (a target of years is a data error).
HORIZON = dt.timedelta(days=3 * 366)

Interval = tuple[dt.datetime, dt.datetime | None]  # (start, end); end None: still open


@dataclass(frozen=True)
class Target:
    """``minutes`` of clock time, counted around the clock or in working hours only."""

    minutes: int
    working_hours: bool = False

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class ClockState:
    """Where one clock stands at ``now``.

    ``elapsed`` and ``left`` are clock time (working time for a working-hours target); ``left``
    is negative once breached. ``due_at`` is None while the clock is paused (unless it breached
before the pause: then the instant the target was passed). ``stopped_at`` is
    when the clock stopped for good (responded, resolved), None while it runs."""

    target: Target
    elapsed: dt.timedelta
    left: dt.timedelta
    due_at: dt.datetime | None
    paused: bool
    stopped_at: dt.datetime | None
    breached: bool

    @property
    def met(self) -> bool | None:
        """True/False once stopped (within target or not); None while it still runs."""
        if self.stopped_at is None:
            return None
        return not self.breached


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("the incident clock works on aware datetimes only")
    return value.astimezone(UTC)


def _counting_windows(start: dt.datetime, working_hours: bool) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The stretches of time from ``start`` onwards that a target counts, in order."""
    start = _utc(start)
    if not working_hours:
        yield start, start + HORIZON
        return
    day = start.astimezone(LONDON).date()
    last = day + HORIZON
    while day <= last:
        if is_working_day(day):
            # Combining the London date with the wall-clock time gives the right UTC instant on
            # either side of a clock change (09:00 and 17:00 are never skipped or repeated).
            opens = dt.datetime.combine(day, DAY_START, tzinfo=LONDON).astimezone(UTC)
            closes = dt.datetime.combine(day, DAY_END, tzinfo=LONDON).astimezone(UTC)
            if closes > start:
                yield max(opens, start), closes
        day += dt.timedelta(days=1)


def union(spans: Iterable[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Spans as sorted, non-overlapping intervals (empty ones dropped): the pauses of a clock,
    the outages or maintenance windows of a month."""
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def london_midnight(day: dt.date) -> dt.datetime:
    """The UTC instant of London midnight starting ``day``: a UK calendar day has 23 or 25 hours
    at a clock change."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=LONDON).astimezone(UTC)


def _merged(pauses: Iterable[Interval], now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """Pauses as sorted, non-overlapping closed intervals; an open pause runs until ``now``."""
    return union((_utc(a), _utc(b) if b is not None else _utc(now)) for a, b in pauses)


def _minus(window: tuple[dt.datetime, dt.datetime],
           pauses: list[tuple[dt.datetime, dt.datetime]]) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The parts of ``window`` outside every pause."""
    a, b = window
    for p, q in pauses:
        if q <= a or p >= b:
            continue
        if p > a:
            yield a, p
        a = max(a, q)
        if a >= b:
            return
    if a < b:
        yield a, b


def _counted(start: dt.datetime, working_hours: bool,
             pauses: list[tuple[dt.datetime, dt.datetime]]) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    for window in _counting_windows(start, working_hours):
        yield from _minus(window, pauses)


def elapsed(start: dt.datetime, end: dt.datetime, target: Target, pauses: Iterable[Interval] = ()) -> dt.timedelta:
    """Clock time counted between ``start`` and ``end`` (open pauses run until ``end``)."""
    end = _utc(end)
    total = dt.timedelta(0)
    if end <= _utc(start):
        return total
    for a, b in _counted(start, target.working_hours, _merged(pauses, end)):
        if a >= end:
            break
        total += min(b, end) - a
    return total


def due_at(start: dt.datetime, target: Target, pauses: Iterable[Interval] = ()) -> dt.datetime:
    """The instant the target's clock time has passed, counting from ``start`` and skipping the
    (closed) pauses. An open pause makes the due time unknown: ask ``state`` instead."""
    pauses = list(pauses)
    if any(b is None for _, b in pauses):
        raise ValueError("no due time while the clock is paused")
    remaining = target.duration
    merged = _merged(pauses, _utc(start))
    for a, b in _counted(start, target.working_hours, merged):
        if b - a >= remaining:
            return (a + remaining).astimezone(UTC)
        remaining -= b - a
    raise ValueError(f"a target of {target.minutes} minutes is not reached within {HORIZON.days} days")


def state(start: dt.datetime, target: Target, *, now: dt.datetime, pauses: Iterable[Interval] = (),
          stopped_at: dt.datetime | None = None) -> ClockState:
    """Where the clock stands at ``now``: it counts from ``start`` to ``stopped_at`` (the response
    or the resolution) or, while it runs, to ``now``."""
    pauses = list(pauses)
    until = now
    stopped = False
    if stopped_at is not None and _utc(stopped_at) <= _utc(now):
        until, stopped = stopped_at, True
    # Pauses after the clock stopped do not matter; an open one ends where the count ends.
    closed = [(a, b if b is not None else until) for a, b in pauses if _utc(a) < _utc(until)]
    spent = elapsed(start, until, target, closed)
    paused = not stopped and any(b is None for _, b in pauses)
    breached = spent > target.duration
    # A paused clock has no due time yet, unless it breached before the pause: then the instant
    # it was passed stands (the pause cannot undo it, and the lists' breached filter reads it).
    due = None if paused and not breached else due_at(start, target, closed)
    return ClockState(target=target, elapsed=spent, left=target.duration - spent, due_at=due, paused=paused,
                      stopped_at=_utc(until) if stopped else None, breached=breached)
