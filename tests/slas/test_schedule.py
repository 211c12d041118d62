"""The monthly freeze runs from a django-q2 cron schedule, 06:00 London time every day, through the
real scheduler (tasks run synchronously in tests). Cron is evaluated over localtime() in
TIME_ZONE (Europe/London), so the run stays at 06:00 on the clock across both clock changes."""
import datetime as dt

import pytest
import time_machine
from django_q.models import Schedule
from django_q.scheduler import scheduler

from portal.registry import SCHEDULES
from slas.models import CreditRun, Statement

UTC = dt.UTC


def _freeze_schedule():
    entry = SCHEDULES.get("slas: monthly freeze")
    assert (entry.schedule_type, entry.cron) == (Schedule.CRON, "0 6 * * *")
    return Schedule.objects.create(repeats=-1, name=entry.name, **entry.fields())


def _tick(moment):
    with time_machine.travel(moment, tick=False):
        scheduler()


@pytest.mark.django_db
@pytest.mark.parametrize("created, runs", [
    # October: BST ends at 01:00 UTC on Sunday 26th; 06:00 London is 05:00 UTC before, 06:00 after.
    (dt.datetime(2025, 10, 24, 12, 0, tzinfo=UTC),
     [dt.datetime(2025, 10, 25, 5, 0, tzinfo=UTC), dt.datetime(2025, 10, 26, 6, 0, tzinfo=UTC),
      dt.datetime(2025, 10, 27, 6, 0, tzinfo=UTC)]),
    # March: BST starts at 01:00 UTC on Sunday 29th; 06:00 London is 06:00 UTC before, 05:00 after.
    (dt.datetime(2026, 3, 27, 12, 0, tzinfo=UTC),
     [dt.datetime(2026, 3, 28, 6, 0, tzinfo=UTC), dt.datetime(2026, 3, 29, 5, 0, tzinfo=UTC),
      dt.datetime(2026, 3, 30, 5, 0, tzinfo=UTC)]),
])
def test_freeze_schedule_stays_at_six_london_across_clock_changes(created, runs):
    with time_machine.travel(created, tick=False):
        schedule = _freeze_schedule()
    assert schedule.next_run == runs[0]
    for due, following in zip(runs, runs[1:], strict=False):
        _tick(due + dt.timedelta(seconds=30))
        schedule.refresh_from_db()
        assert schedule.next_run == following
    assert not CreditRun.objects.exists()  # none of these days is a month's first working day


def test_scheduler_freezes_on_the_first_working_day_once(month_with_misses, orgs, supplier_a):
    # Saturday 1 November 2025: the task runs and does nothing; Monday 3rd it freezes October.
    with time_machine.travel(dt.datetime(2025, 10, 31, 12, 0, tzinfo=UTC), tick=False):
        schedule = _freeze_schedule()
    _tick(dt.datetime(2025, 11, 1, 6, 0, 30, tzinfo=UTC))
    assert not CreditRun.objects.exists()
    _tick(dt.datetime(2025, 11, 2, 6, 0, 30, tzinfo=UTC))
    _tick(dt.datetime(2025, 11, 3, 6, 0, 30, tzinfo=UTC))
    assert CreditRun.objects.get().month == dt.date(2025, 10, 1)
    assert Statement.objects.count() == 2
    # A second tick the same morning finds nothing due; a forced second run issues nothing twice.
    _tick(dt.datetime(2025, 11, 3, 6, 5, tzinfo=UTC))
    Schedule.objects.filter(pk=schedule.pk).update(next_run=dt.datetime(2025, 11, 3, 6, 6, tzinfo=UTC))
    _tick(dt.datetime(2025, 11, 3, 6, 7, tzinfo=UTC))
    assert CreditRun.objects.count() == 1 and Statement.objects.count() == 2
    schedule.refresh_from_db()
    assert schedule.next_run == dt.datetime(2025, 11, 4, 6, 0, tzinfo=UTC)
