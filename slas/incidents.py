"""The incident measures: incident response and resolution within target, per Incident Category,
per month and per resolver, counted into the same rollups as every other measure (MonthRollup,
then MonthSummary), so the monthly report, the trend and the dashboard's measures tile read them
as they read PM1.

The facts are the service desk's incident clocks, read through servicedesk.selectors (slas stands
above servicedesk); which month a clock counts in and what counts as within target are
slas.metrics.incident_measure and slas.metrics.within. A clock's state changes with time (a
running clock breaches without anyone writing), so a month's incident rollups are recomputed
whole (``refresh_month``): every few minutes by the schedule, when the month is frozen and
whenever the month's rollups are rebuilt. There are no daily rows: no page reads incidents by day.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from servicedesk import selectors as desk
from slas import metrics, rollups
from slas.models import Measure, MonthRollup


def ensure_measures() -> list[Measure]:
    """The ten incident measures (two per category), created where missing."""
    return [Measure.objects.get_or_create(code=row["code"], measurement_type=row["measurement_type"],
                                          defaults=row)[0]
            for row in metrics.incident_seed_rows()]


def _sync_targets(measures: list[Measure]) -> None:
    """Copy the desk's target times (TargetTime, edited by DCC) into the incident measures, so a
    measure's target_seconds is the time its clock is held to."""
    table = desk.targets()
    for measure in measures:
        row = table.get(measure.category or 0)
        if row is None:
            continue
        minutes = row.response_minutes if metrics.INCIDENT_CLOCK[measure.interval] == "response" \
            else row.resolution_minutes
        seconds = Decimal(minutes * 60)
        if measure.target_seconds != seconds:
            measure.target_seconds = seconds
            measure.save(update_fields=["target_seconds", "updated_at"])


def deltas_for(month: dt.date, measures: list[Measure], *, now: dt.datetime | None = None) -> rollups.Deltas:
    """The month's incident counts as rollup deltas: per incident measure, resolver (in the
    rollup's region) and raising organisation."""
    month = metrics.month_start(month)
    start, end = metrics.month_bounds(month)
    by_clock = {(m.category, metrics.INCIDENT_CLOCK[m.interval]): m for m in measures}
    deltas = rollups.Deltas()
    for reading in desk.clock_readings(start, end, now=now or timezone.now()):
        measure = by_clock.get((reading.category, reading.clock))
        if measure is None:
            continue
        decided = metrics.incident_measure(elapsed=reading.elapsed, stopped_at=reading.stopped_at,
                                           breached_at=reading.breached_at)
        if decided is None:
            continue
        day, duration = decided
        if metrics.month_start(day) != month:
            continue
        deltas.add(day=day, measure=measure, region=reading.resolver, org_id=reading.organisation_id,
                   duration=duration, excluded=False)
    return deltas


def refresh_month(month: dt.date, *, now: dt.datetime | None = None) -> int:
    """Recompute the month's incident rollups (and so its summary) from the incident clocks.
    Returns the number of clocks counted."""
    month = metrics.month_start(month)
    with transaction.atomic():
        measures = ensure_measures()
        _sync_targets(measures)
        deltas = deltas_for(month, measures, now=now)
        wanted = {key[1:]: (measured, within, excluded, {str(k): n for k, n in histogram.items()})
                  for key, (measured, within, excluded, histogram) in deltas.monthly.items()}
        existing = MonthRollup.objects.select_for_update().filter(month=month, measure__in=measures)
        held = {(r.measure_id, r.region, r.organisation_id): (r.measured, r.within, r.excluded, r.histogram)
                for r in existing}
        # Rewritten only when something changed: new rows move the month's fingerprint and so
        # recompute its summary, which every five minutes for nothing would be waste.
        if held != wanted:
            existing.delete()
            rollups.apply_monthly(deltas.monthly, deltas.providers)
    rollups.refresh_summaries([month])
    return sum(counts[0] for counts in deltas.monthly.values())


def refresh_recent(*, now: dt.datetime | None = None) -> list[dt.date]:
    """The schedule's work: this month and the last (the previous month's late decisions land
    until it is frozen on the first working day)."""
    now = now or timezone.now()
    this_month = metrics.month_start(metrics.london_day(now))
    months = [metrics.previous_month(this_month), this_month]
    for month in months:
        refresh_month(month, now=now)
    return months
