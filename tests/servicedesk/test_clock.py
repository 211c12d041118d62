"""The incident clock: around the clock and working hours, across weekends, bank holidays and
both clock changes, paused while the incident awaits the user. Every expected instant below is
worked out by hand in London wall-clock time and checked in UTC."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicedesk import clock
from servicedesk.clock import Target

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC


def london(*args):
    return dt.datetime(*args, tzinfo=LONDON)


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC)


H = 60  # minutes in an hour
FOUR_HOURS = Target(4 * H)
TWO_WORKING_HOURS = Target(2 * H, working_hours=True)


# --- around the clock ------------------------------------------------------------------------

def test_around_the_clock_counts_every_minute():
    start = london(2025, 6, 4, 10, 0)
    assert clock.due_at(start, FOUR_HOURS) == london(2025, 6, 4, 14, 0)
    assert clock.elapsed(start, london(2025, 6, 4, 11, 30), FOUR_HOURS) == dt.timedelta(minutes=90)
    state = clock.state(start, FOUR_HOURS, now=london(2025, 6, 4, 13, 0))
    assert state.left == dt.timedelta(hours=1) and not state.breached and not state.paused
    assert state.due_at == utc(2025, 6, 4, 13, 0) and state.met is None


def test_around_the_clock_over_the_spring_clock_change_is_real_time():
    # 30 March 2025: at 01:00 GMT the clocks go forward to 02:00 BST. From 00:30 GMT four real
    # hours end at 04:30 UTC, which London reads as 05:30.
    start = london(2025, 3, 30, 0, 30)
    due = clock.due_at(start, FOUR_HOURS)
    assert due == utc(2025, 3, 30, 4, 30)
    assert due.astimezone(LONDON).strftime("%H:%M %Z") == "05:30 BST"


def test_around_the_clock_over_the_autumn_clock_change_is_real_time():
    # 26 October 2025: at 02:00 BST the clocks go back to 01:00 GMT. From 00:30 BST (23:30 UTC on
    # the 25th) four real hours end at 03:30 UTC = 03:30 GMT: the wall clock moved only three.
    start = london(2025, 10, 26, 0, 30)
    due = clock.due_at(start, FOUR_HOURS)
    assert due == utc(2025, 10, 26, 3, 30)
    assert due.astimezone(LONDON).strftime("%H:%M %Z") == "03:30 GMT"
    # The London day of the change has 25 hours: a 24-hour target ends at 23:00 the same day.
    assert clock.due_at(london(2025, 10, 26, 0, 0), Target(24 * H)).astimezone(LONDON) == london(2025, 10, 26, 23, 0)


# --- working hours ---------------------------------------------------------------------------

def test_working_hours_skip_the_evening_and_the_weekend():
    # Friday 6 June 2025 16:00: one hour on Friday, the second on Monday 09:00-10:00.
    assert clock.due_at(london(2025, 6, 6, 16, 0), TWO_WORKING_HOURS) == london(2025, 6, 9, 10, 0)
    # Raised on a Saturday: the clock starts on Monday at 09:00.
    assert clock.due_at(london(2025, 6, 7, 11, 0), TWO_WORKING_HOURS) == london(2025, 6, 9, 11, 0)
    # Raised at 07:00 on a working day: it starts at 09:00.
    assert clock.due_at(london(2025, 6, 4, 7, 0), TWO_WORKING_HOURS) == london(2025, 6, 4, 11, 0)
    # Raised at 17:00 exactly: nothing is left of that day.
    assert clock.due_at(london(2025, 6, 4, 17, 0), TWO_WORKING_HOURS) == london(2025, 6, 5, 11, 0)
    # The weekend counts nothing.
    assert clock.elapsed(london(2025, 6, 6, 16, 0), london(2025, 6, 9, 9, 0), TWO_WORKING_HOURS) == dt.timedelta(
        hours=1)


def test_working_hours_skip_easter_bank_holidays():
    # Thursday 17 April 2025 16:00; Good Friday 18 and Easter Monday 21 April are bank holidays:
    # one hour on Thursday, the second on Tuesday 22 April.
    assert clock.due_at(london(2025, 4, 17, 16, 0), TWO_WORKING_HOURS) == london(2025, 4, 22, 10, 0)


def test_working_hours_skip_christmas_and_the_substitute_boxing_day():
    # 2026: Christmas is a Friday, Boxing Day a Saturday, so Monday 28 December is the substitute
    # holiday. Thursday 24th 16:00 plus one working day (8 h): 1 h on the 24th, 7 h on Tuesday 29th.
    assert clock.due_at(london(2026, 12, 24, 16, 0), Target(8 * H, working_hours=True)) == london(2026, 12, 29, 16, 0)


def test_working_hours_across_the_spring_clock_change():
    # Friday 28 March 2025 16:00 GMT (16:00 UTC); clocks go forward on Sunday 30th; the second
    # hour is Monday 31st 09:00-10:00 BST, i.e. 08:00-09:00 UTC.
    due = clock.due_at(london(2025, 3, 28, 16, 0), TWO_WORKING_HOURS)
    assert due == utc(2025, 3, 31, 9, 0) and due.astimezone(LONDON) == london(2025, 3, 31, 10, 0)
    # A working day is 8 real hours on both sides of the change.
    week = clock.elapsed(london(2025, 3, 28, 0, 0), london(2025, 4, 1, 0, 0), TWO_WORKING_HOURS)
    assert week == dt.timedelta(hours=16)


def test_working_hours_across_the_autumn_clock_change():
    # Friday 24 October 2025 16:00 BST (15:00 UTC); clocks go back on Sunday 26th; Monday 27th
    # 09:00-10:00 GMT is 09:00-10:00 UTC.
    due = clock.due_at(london(2025, 10, 24, 16, 0), TWO_WORKING_HOURS)
    assert due == utc(2025, 10, 27, 10, 0) and due.astimezone(LONDON) == london(2025, 10, 27, 10, 0)


def test_working_hours_across_a_bank_holiday_and_a_clock_change_at_once():
    # Thursday 1 May 2025 is a normal day; Monday 5 May is the early May bank holiday. From
    # Friday 2 May 16:00 three working hours: 1 h Friday, then Tuesday 6 May 09:00-11:00.
    assert clock.due_at(london(2025, 5, 2, 16, 0), Target(3 * H, working_hours=True)) == london(2025, 5, 6, 11, 0)
    # Maundy Thursday 2024 (28 March) 16:00, Good Friday 29th, clocks forward on Sunday 31st,
    # Easter Monday 1 April: the second hour is Tuesday 2 April 09:00-10:00 BST (08:00-09:00 UTC).
    assert clock.due_at(london(2024, 3, 28, 16, 0), TWO_WORKING_HOURS) == utc(2024, 4, 2, 9, 0)


# --- pauses ----------------------------------------------------------------------------------

def test_a_closed_pause_moves_the_due_time_by_its_length():
    start = london(2025, 6, 4, 10, 0)
    pauses = [(london(2025, 6, 4, 11, 0), london(2025, 6, 4, 13, 0))]
    assert clock.due_at(start, FOUR_HOURS, pauses) == london(2025, 6, 4, 16, 0)
    assert clock.elapsed(start, london(2025, 6, 4, 14, 0), FOUR_HOURS, pauses) == dt.timedelta(hours=2)


def test_an_open_pause_stops_the_clock_and_hides_the_due_time():
    start = london(2025, 6, 4, 10, 0)
    pauses = [(london(2025, 6, 4, 11, 0), None)]
    first = clock.state(start, FOUR_HOURS, now=london(2025, 6, 4, 12, 0), pauses=pauses)
    later = clock.state(start, FOUR_HOURS, now=london(2025, 6, 5, 9, 0), pauses=pauses)
    assert first.paused and later.paused
    assert first.due_at is None and later.due_at is None
    assert first.left == later.left == dt.timedelta(hours=3)  # stands still while paused
    assert not later.breached  # a day later, still within target: the user holds the clock
    with pytest.raises(ValueError, match="paused"):
        clock.due_at(start, FOUR_HOURS, pauses)
    # The user answers at 09:00 the next day: the clock runs on with the three hours left.
    answered = [(london(2025, 6, 4, 11, 0), london(2025, 6, 5, 9, 0))]
    running = clock.state(start, FOUR_HOURS, now=london(2025, 6, 5, 10, 0), pauses=answered)
    assert not running.paused and running.left == dt.timedelta(hours=2)
    assert running.due_at == london(2025, 6, 5, 12, 0)


def test_a_pause_over_working_hours_only_removes_working_time():
    # Raised Friday 6 June 2025 15:00 (2 working hours: due 17:00). Awaiting the user from 16:00
    # Friday to Monday 10:00: the pause removed 1 h on Friday and 1 h on Monday, so one hour is
    # left when the user answers and the due time is Monday 11:00.
    start = london(2025, 6, 6, 15, 0)
    pauses = [(london(2025, 6, 6, 16, 0), london(2025, 6, 9, 10, 0))]
    assert clock.due_at(start, TWO_WORKING_HOURS, pauses) == london(2025, 6, 9, 11, 0)


def test_overlapping_and_empty_pauses_are_merged():
    start = london(2025, 6, 4, 10, 0)
    pauses = [(london(2025, 6, 4, 11, 0), london(2025, 6, 4, 12, 0)),
              (london(2025, 6, 4, 11, 30), london(2025, 6, 4, 13, 0)),
              (london(2025, 6, 4, 15, 0), london(2025, 6, 4, 15, 0))]
    assert clock.due_at(start, FOUR_HOURS, pauses) == london(2025, 6, 4, 16, 0)


def test_union_merges_overlapping_spans_and_drops_empty_ones():
    a, b, c, d = (london(2025, 6, 4, h, 0) for h in (9, 10, 11, 12))
    assert clock.union([(c, d), (a, c), (b, b), (d, a)]) == [(a, d)]
    assert clock.union([(c, d), (a, b)]) == [(a, b), (c, d)]


def test_london_midnight_days_are_23_or_25_hours_at_the_clock_changes():
    def hours(day):
        return (clock.london_midnight(day + dt.timedelta(days=1)) - clock.london_midnight(day)).total_seconds() / 3600

    assert clock.london_midnight(dt.date(2025, 6, 4)) == dt.datetime(2025, 6, 3, 23, 0, tzinfo=dt.UTC)
    assert (hours(dt.date(2025, 3, 30)), hours(dt.date(2025, 10, 26)), hours(dt.date(2025, 6, 4))) == (23, 25, 24)


# --- stopping, breaching ---------------------------------------------------------------------

def test_a_stopped_clock_is_met_or_breached_for_good():
    start = london(2025, 6, 4, 10, 0)
    met = clock.state(start, FOUR_HOURS, now=london(2025, 6, 9, 0, 0), stopped_at=london(2025, 6, 4, 13, 59))
    assert met.met is True and met.left == dt.timedelta(minutes=1) and met.stopped_at == utc(2025, 6, 4, 12, 59)
    late = clock.state(start, FOUR_HOURS, now=london(2025, 6, 9, 0, 0), stopped_at=london(2025, 6, 4, 15, 0))
    assert late.met is False and late.breached and late.left == -dt.timedelta(hours=1)
    assert late.due_at == london(2025, 6, 4, 14, 0)
    # Exactly on the due time is within target.
    on_time = clock.state(start, FOUR_HOURS, now=london(2025, 6, 9, 0, 0), stopped_at=london(2025, 6, 4, 14, 0))
    assert on_time.met is True and on_time.left == dt.timedelta(0)


def test_a_running_clock_breaches_after_its_due_time():
    start = london(2025, 6, 4, 10, 0)
    running = clock.state(start, FOUR_HOURS, now=london(2025, 6, 4, 14, 30))
    assert running.breached and running.left == -dt.timedelta(minutes=30) and running.met is None
    # A stop time in the future of ``now`` is not a stop yet.
    early = clock.state(start, FOUR_HOURS, now=london(2025, 6, 4, 11, 0), stopped_at=london(2025, 6, 4, 12, 0))
    assert early.stopped_at is None and early.elapsed == dt.timedelta(hours=1)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        clock.due_at(dt.datetime(2025, 6, 4, 10, 0), FOUR_HOURS)


# --- the two functions agree -----------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(start=st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 12, 31),
                          timezones=st.just(LONDON)),
       minutes=st.integers(min_value=1, max_value=20 * 8 * 60), working_hours=st.booleans(),
       pause_offset=st.integers(min_value=0, max_value=5000), pause_length=st.integers(min_value=0, max_value=5000))
def test_the_time_counted_up_to_the_due_time_is_the_target(start, minutes, working_hours, pause_offset,
                                                            pause_length):
    target = Target(minutes, working_hours)
    pause_start = start + dt.timedelta(minutes=pause_offset)
    pauses = [(pause_start, pause_start + dt.timedelta(minutes=pause_length))]
    due = clock.due_at(start, target, pauses)
    assert clock.elapsed(start, due, target, pauses) == target.duration
    assert clock.elapsed(start, due - dt.timedelta(minutes=1), target, pauses) < target.duration
    if working_hours:
        local = due.astimezone(LONDON)
        assert dt.time(9, 0) < local.time() <= dt.time(17, 0)
