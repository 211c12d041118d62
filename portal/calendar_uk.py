"""Working days in England and Wales: weekends and bank holidays.

Bank holidays are computed from their rules (New Year's Day, Good Friday, Easter Monday, the
early May, spring and summer Mondays, Christmas and Boxing Day, with weekend substitutes), plus a
small table of the one-off changes proclaimed since 2010. Add future proclamations to ONE_OFFS.

The ground holds it because more than one app counts working days: slas (the month freeze on the
first working day) and servicedesk (working-hours incident targets, auto-close after N working
days, the self-service reports due by the 10th working day).
"""
import datetime as dt
from functools import lru_cache

# year -> (days removed from the rules, days added)
ONE_OFFS = {
    2011: ((), (dt.date(2011, 4, 29),)),  # royal wedding
    2012: ((dt.date(2012, 5, 28),), (dt.date(2012, 6, 4), dt.date(2012, 6, 5))),  # diamond jubilee
    2020: ((dt.date(2020, 5, 4),), (dt.date(2020, 5, 8),)),  # VE day
    2022: ((dt.date(2022, 5, 30),), (dt.date(2022, 6, 2), dt.date(2022, 6, 3), dt.date(2022, 9, 19))),
    2023: ((), (dt.date(2023, 5, 8),)),  # coronation
}


def easter(year):
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month = (h + m - 7 * n + 114) // 31
    day = (h + m - 7 * n + 114) % 31 + 1
    return dt.date(year, month, day)


def _first_monday(year, month):
    day = dt.date(year, month, 1)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def _last_monday(year, month):
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    day = following - dt.timedelta(days=1)
    return day - dt.timedelta(days=day.weekday())


@lru_cache(maxsize=64)
def bank_holidays(year):
    """The bank holidays of England and Wales in ``year`` (a frozenset of dates)."""
    days = set()
    new_year = dt.date(year, 1, 1)
    days.add(new_year if new_year.weekday() < 5 else new_year + dt.timedelta(days=7 - new_year.weekday()))
    sunday = easter(year)
    days |= {sunday - dt.timedelta(days=2), sunday + dt.timedelta(days=1)}
    days |= {_first_monday(year, 5), _last_monday(year, 5), _last_monday(year, 8)}
    christmas, boxing = dt.date(year, 12, 25), dt.date(year, 12, 26)
    # A holiday on a weekend moves to the next weekday not already a holiday.
    for day in (christmas, boxing):
        while day.weekday() >= 5 or day in days:
            day += dt.timedelta(days=1)
        days.add(day)
    removed, added = ONE_OFFS.get(year, ((), ()))
    return frozenset((days - set(removed)) | set(added))


def is_working_day(day):
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def first_working_day(year, month):
    day = dt.date(year, month, 1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def nth_working_day(year, month, n):
    """The ``n``-th working day (1-based) of a month: SEC H3.24 reports are due by the 10th."""
    if n < 1:
        raise ValueError("n counts from 1")
    day = first_working_day(year, month)
    return add_working_days(day, n - 1)


def add_working_days(day, n):
    """The working day ``n`` working days after ``day`` (``n`` = 0: ``day`` itself if it is a
    working day, else the next one)."""
    if n < 0:
        raise ValueError("n must not be negative")
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    while n:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def working_days_between(start, end):
    """How many working days lie after ``start`` up to and including ``end`` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_working_day(day)
    return count
