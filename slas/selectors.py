"""Reads of the slas app that pages, exports and the API share."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING

from django.db.models import F, Sum

from portal.scoping import scope
from slas import metrics
from slas.models import Charge, DailyRollup, FoldState, Measure, MonthRollup, Statement

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from portal.models import Organisation, User
    from portal.types import Viewer


def viewer_organisation(user: User) -> Organisation | None:
    """None for DCC staff (national figures); the user's own organisation for service users."""
    return None if user.is_dcc else user.organisation


def statements_for(user: Viewer) -> QuerySet[Statement]:
    return scope(user, Statement.objects.select_related("organisation")).order_by(
        "-month", "organisation__code", "-version")


def charges_for(user: Viewer) -> QuerySet[Charge]:
    return scope(user, Charge.objects.select_related("organisation")).order_by("-month", "provider",
                                                                                "organisation__code")


def trend(user: Viewer, month: dt.date, months: int = 12) -> tuple[dict[int, dict[dt.date, float]], dt.date]:
    """Achieved % per measure per month for the twelve months to ``month`` (rollup sums only)."""
    first = month
    for _ in range(months - 1):
        first = metrics.previous_month(first)
    rows = scope(user, MonthRollup).filter(month__gte=first, month__lte=month)
    sums = rows.values("month", "measure_id").annotate(measured=Sum("measured"), within=Sum("within"))
    series: defaultdict[int, dict[dt.date, float]] = defaultdict(dict)
    for row in sums:
        if row["measured"]:
            series[row["measure_id"]][row["month"]] = 100 * row["within"] / row["measured"]
    return series, first


def misses_by_region_day(user: Viewer, month: dt.date) -> dict[tuple[dt.date, str], int]:
    rows = scope(user, DailyRollup).filter(day__gte=month, day__lt=metrics.next_month(month))
    sums = rows.values("day", "region").annotate(misses=Sum(F("measured") - F("within")))
    return {(row["day"], row["region"]): row["misses"] for row in sums}


def measures() -> QuerySet[Measure]:
    return Measure.objects.all()


FOLD_LAG_CAP = 100_000  # records counted behind the watermark; beyond it the tile says "more than"


def fold_lag() -> list[dict]:
    """How far the continuous fold (slas.facts.fold_adapter) is behind the adapter, per feed
    (requests, alerts): ``seconds`` from its watermark to the newest completed record (0 when
    caught up; None when it has never folded and records wait), ``records`` completed after the
    watermark (counted up to FOLD_LAG_CAP; ``capped`` when there are more), and both times. DCC's
    operational view of the pipeline, not scoped: it names no organisation's data."""
    from slas.facts import FEEDS  # the fold's own table of feeds; facts imports no selector

    states = {s.name: s for s in FoldState.objects.filter(name__in=[feed.state_name for feed in FEEDS])}
    lags = []
    for feed in FEEDS:
        state = states.get(feed.state_name)
        watermark = state.watermark if state else None
        since = (watermark, state.last_pk) if state and watermark else None
        newest, records = feed.backlog(since, cap=FOLD_LAG_CAP + 1)
        if not records:
            seconds: float | None = 0.0
        elif watermark is None or newest is None:
            seconds = None
        else:
            seconds = max((newest - watermark).total_seconds(), 0.0)
        lags.append({"kind": feed.kind.name, "seconds": seconds, "records": min(records, FOLD_LAG_CAP),
                     "capped": records > FOLD_LAG_CAP, "watermark": watermark, "newest": newest})
    return lags
